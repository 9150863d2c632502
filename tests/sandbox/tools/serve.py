"""Keep a sandbox AWS running for manual work: prints the environment to export, then waits.

.venv/bin/python -m tests.sandbox.tools.serve > /tmp/sandbox.env &   # then: source /tmp/sandbox.env
"""

from __future__ import annotations

import argparse
import signal
import sys

from tests.sandbox.harness.aws import MotoSandbox


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--acm-wait", type=int, default=1, help="seconds ACM certificates stay PENDING_VALIDATION")
    args = parser.parse_args()
    with MotoSandbox(acm_validation_wait=args.acm_wait) as sandbox:
        for key, value in sandbox.env().items():
            print(f"export {key}={value}")
        print("unset AWS_PROFILE AWS_DEFAULT_PROFILE", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
