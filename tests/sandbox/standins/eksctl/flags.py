"""A small spf13/pflag look-alike: the flag syntax and the error texts eksctl users see."""

from __future__ import annotations

import copy
import csv
import io

from .common import EksctlError, parse_duration


class Flag:
    def __init__(self, name, short=None, kind="string", default=None, usage=""):
        self.name = name
        self.short = short
        self.kind = kind  # string | bool | int | strings | map | duration
        if default is None:
            default = {"bool": False, "int": 0, "strings": [], "map": {}, "string": "", "duration": "0s"}[kind]
        self.default = default
        self.usage = usage

    def spec(self) -> str:
        return f"-{self.short}, --{self.name}" if self.short else f"--{self.name}"

    def convert(self, raw: str, current):
        if self.kind == "string":
            return raw
        if self.kind == "bool":
            lowered = raw.lower()
            if lowered in ("1", "t", "true"):
                return True
            if lowered in ("0", "f", "false"):
                return False
            raise EksctlError(
                f'invalid argument "{raw}" for "{self.spec()}" flag: strconv.ParseBool: parsing "{raw}": invalid syntax'
            )
        if self.kind == "int":
            try:
                return int(raw, 10)
            except ValueError:
                raise EksctlError(
                    f'invalid argument "{raw}" for "{self.spec()}" flag: strconv.ParseInt: parsing "{raw}": '
                    "invalid syntax"
                ) from None
        if self.kind == "duration":
            try:
                parse_duration(raw)
            except ValueError as exc:
                raise EksctlError(f'invalid argument "{raw}" for "{self.spec()}" flag: {exc}') from None
            return raw
        if self.kind == "strings":
            values = next(csv.reader(io.StringIO(raw))) if raw else []
            return list(current or []) + [v.strip() for v in values]
        if self.kind == "map":
            result = dict(current or {})
            for pair in next(csv.reader(io.StringIO(raw))) if raw else []:
                if "=" not in pair:
                    raise EksctlError(
                        f'invalid argument "{raw}" for "{self.spec()}" flag: {pair} must be formatted as key=value'
                    )
                key, value = pair.split("=", 1)
                result[key] = value
            return result
        raise AssertionError(self.kind)


class Parsed:
    def __init__(self, values, changed, args):
        self.values = values
        self.changed = changed
        self.args = args

    def __getitem__(self, name):
        return self.values[name]

    def get(self, name, default=None):
        return self.values.get(name, default)

    def set(self, name) -> bool:
        return name in self.changed


def parse(argv, flags) -> Parsed:
    by_name = {f.name: f for f in flags}
    by_short = {f.short: f for f in flags if f.short}
    values = {f.name: copy.copy(f.default) for f in flags}
    changed = set()
    args = []
    i = 0

    def assign(flag, raw):
        values[flag.name] = flag.convert(raw, values[flag.name] if flag.name in changed else None)
        changed.add(flag.name)

    while i < len(argv):
        token = argv[i]
        i += 1
        if token == "--":
            args.extend(argv[i:])
            break
        if token.startswith("--") and len(token) > 2:
            name, eq, raw = token[2:].partition("=")
            flag = by_name.get(name)
            if flag is None:
                raise EksctlError(f"unknown flag: --{name}")
            if eq:
                assign(flag, raw)
            elif flag.kind == "bool":
                assign(flag, "true")
            elif i < len(argv):
                assign(flag, argv[i])
                i += 1
            else:
                raise EksctlError(f"flag needs an argument: --{name}")
            continue
        if token.startswith("-") and len(token) > 1:
            shorts = token[1:]
            j = 0
            while j < len(shorts):
                char = shorts[j]
                flag = by_short.get(char)
                if flag is None:
                    raise EksctlError(f"unknown shorthand flag: '{char}' in -{shorts}")
                rest = shorts[j + 1 :]
                if rest.startswith("="):
                    assign(flag, rest[1:])
                    break
                if flag.kind == "bool":
                    assign(flag, "true")
                    j += 1
                    continue
                if rest:
                    assign(flag, rest)
                elif i < len(argv):
                    assign(flag, argv[i])
                    i += 1
                else:
                    raise EksctlError(f"flag needs an argument: '{char}' in -{shorts}")
                break
            continue
        args.append(token)
    return Parsed(values, changed, args)


# Flags every eksctl command has (root persistent flags) and the common AWS ones.
def root_flags():
    return [
        Flag("color", "C", "string", "true"),
        Flag("verbose", "v", "int", 3),
        Flag("help", "h", "bool"),
    ]


def aws_flags(timeout=True, cfn=True):
    flags = [Flag("profile", "p", "string")]
    if timeout:
        flags.append(Flag("timeout", None, "duration", "25m0s"))
    if cfn:
        flags += [Flag("cfn-role-arn", None, "string"), Flag("cfn-disable-rollback", None, "bool")]
    return flags
