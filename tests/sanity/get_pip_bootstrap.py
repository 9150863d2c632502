"""Offline stand-in for the get-pip.py that ansible-test downloads.

ansible-test bootstraps pip into each sanity virtual environment by running a get-pip
script it fetches from a host that is not reachable from CI or behind many corporate
proxies. This script does the same job with what Python already ships: `ensurepip`
installs the bundled pip, then that pip installs the requested version from the
configured index, trusting the CA bundle named by PIP_CERT or REQUESTS_CA_BUNDLE.
"""

import os
import subprocess
import sys


def main():
    args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
    cert = os.environ.get("PIP_CERT") or os.environ.get("REQUESTS_CA_BUNDLE")
    cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check"]
    if cert:
        cmd += ["--cert", cert]
    subprocess.check_call(cmd + args)


if __name__ == "__main__":
    main()
