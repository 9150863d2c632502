"""python -m tests.sandbox.standins.kfctl ARGS: the kfctl simulator."""

import sys

from .cli import main

sys.exit(main(sys.argv[1:]))
