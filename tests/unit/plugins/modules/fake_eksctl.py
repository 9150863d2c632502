"""A scripted eksctl for unit tests: logs its argv, answers from a JSON script.

FAKE_EKSCTL_SCRIPT: JSON list of {"match": [argv prefix...], "stdout": "...", "stderr": "...", "rc": 0}; the
first entry whose prefix matches answers (entries with "once": true are used a single time).
FAKE_EKSCTL_LOG: file that gets one JSON argv list per call.
"""

import json
import os
import sys


def main():
    argv = sys.argv[1:]
    with open(os.environ["FAKE_EKSCTL_LOG"], "a") as log:
        log.write(json.dumps(argv) + "\n")
    path = os.environ["FAKE_EKSCTL_SCRIPT"]
    with open(path) as stream:
        script = json.load(stream)
    for index, entry in enumerate(script):
        if argv[: len(entry["match"])] == entry["match"]:
            if entry.get("once"):
                script.pop(index)
                with open(path, "w") as stream:
                    json.dump(script, stream)
            sys.stdout.write(entry.get("stdout", ""))
            sys.stderr.write(entry.get("stderr", ""))
            return entry.get("rc", 0)
    sys.stderr.write("Error: fake eksctl has no answer for " + " ".join(argv) + "\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
