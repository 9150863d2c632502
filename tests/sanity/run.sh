#!/usr/bin/env bash
# ansible-test sanity for this collection, offline-capable.
# - ansible-test must run from a path .../ansible_collections/kubeflow_ops/aws, so the tracked
#   (and new, not ignored) files are copied there first;
# - its pip bootstrap is seeded with tests/sanity/get_pip_bootstrap.py (see that file).
# `--venv DIR` picks the venv whose ansible-test runs (default .venv; `make compat` passes .venv-2.19);
# further arguments go to `ansible-test sanity` (e.g. --test validate-modules).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
venv="$repo/.venv"
if [ "${1:-}" = "--venv" ]; then
  venv=$(cd "$repo" && cd "$2" && pwd)
  shift 2
fi
py="$venv/bin/python"
pyver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# The pip version ansible-test bootstraps into each sanity venv (24.2 in ansible-core 2.19, newer later).
pip_version=$("$py" -c 'import re, inspect, ansible_test._internal.python_requirements as r
print(re.search(r"pip=.([0-9.]+)", inspect.getsource(r.get_venv_packages)).group(1))')
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
cp "$repo/tests/sanity/get_pip_bootstrap.py" "$cache/get_pip_${pip_version//./_}.py"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/kubeflow_ops/aws"
mkdir -p "$dest"
cd "$repo"
git ls-files -z --cached --others --exclude-standard | grep -zv '^collections/' \
  | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | xargs -0 cp --parents -t "$dest"
# Collections we depend on must sit beside ours for the import and validate-modules tests.
site=$("$py" -c 'import ansible_collections.amazon.aws as m, pathlib; print(pathlib.Path(list(m.__path__)[0]).parents[1])')
for ns in amazon kubernetes community; do
  ln -s "$site/$ns" "$work/ansible_collections/$ns"
done
cd "$dest"
git init -q . && git add -A >/dev/null 2>&1 && git -c user.email=ci@example.invalid -c user.name=ci commit -qm sanity
export PATH="$venv/bin:$PATH"
"$venv/bin/ansible-test" sanity --color no --python "$pyver" --requirements "$@"
