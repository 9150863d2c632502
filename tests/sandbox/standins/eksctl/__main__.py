"""`python -m tests.sandbox.standins.eksctl ...` runs the simulator like the eksctl binary."""

import sys

from tests.sandbox.standins.eksctl.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
