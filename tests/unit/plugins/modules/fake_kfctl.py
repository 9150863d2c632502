"""A scripted kfctl for unit tests: logs its argv, answers from a JSON script, can rewrite the -f file.

FAKE_KFCTL_SCRIPT: JSON list of {"match": [argv prefix...], "stdout": "...", "stderr": "...", "rc": 0,
"update": {...}, "mkdirs": [...]}; the first entry whose prefix matches answers (entries with "once": true are
used a single time). "update" is merged into the KfDef named by -f (as kfctl writes it back), "mkdirs" are
created beside it (the app directory). FAKE_KFCTL_LOG: file that gets one JSON argv list per call.
"""

import json
import os
import sys

import yaml


def merge(into, update):
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value


def rewrite(argv, entry):
    path = argv[argv.index("-f") + 1]
    with open(path) as stream:
        kfdef = yaml.safe_load(stream)
    merge(kfdef, entry.get("update") or {})
    with open(path, "w") as stream:
        yaml.safe_dump(kfdef, stream)
    for name in entry.get("mkdirs") or []:
        os.makedirs(os.path.join(os.path.dirname(path), name), exist_ok=True)


def main():
    argv = sys.argv[1:]
    with open(os.environ["FAKE_KFCTL_LOG"], "a") as log:
        log.write(json.dumps({"argv": argv, "cwd": os.getcwd(), "kubeconfig": os.environ.get("KUBECONFIG")}) + "\n")
    path = os.environ["FAKE_KFCTL_SCRIPT"]
    with open(path) as stream:
        script = json.load(stream)
    for index, entry in enumerate(script):
        if argv[: len(entry["match"])] == entry["match"]:
            if entry.get("once"):
                script.pop(index)
                with open(path, "w") as stream:
                    json.dump(script, stream)
            if entry.get("rc", 0) == 0 and (entry.get("update") or entry.get("mkdirs")):
                rewrite(argv, entry)
            sys.stdout.write(entry.get("stdout", ""))
            sys.stderr.write(entry.get("stderr", ""))
            return entry.get("rc", 0)
    sys.stderr.write("Error: fake kfctl has no answer for " + " ".join(argv) + "\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
