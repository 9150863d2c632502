"""moto's server with the sandbox's corrections of what real AWS answers differently (tests only).

    python -m tests.sandbox.standins.moto_server -H 127.0.0.1 -p PORT      # the arguments of `python -m moto.server`

- Route53 ListResourceRecordSets: real Route53 returns the characters of a record name other than a-z,
  0-9, '-' and '_' as octal escapes, so a wildcard record `*.example.com.` comes back as
  `\\052.example.com.` (moto returns it as it was written). Playbooks must compare names in both
  forms; the sandbox answers the way AWS does so that tests see the real form.
"""

from __future__ import annotations

import copy
import sys

from moto.route53 import responses as route53_responses
from moto.server import main


def route53_name(name: str) -> str:
    """A record name as Route53 returns it: `*` (the only such character our records use) as `\\052`."""
    return name.replace("*", "\\052")


def _patch_route53() -> None:
    listing = route53_responses.Route53.list_resource_record_sets

    def list_resource_record_sets(self):
        answer = listing(self)
        result = answer.result  # {"ResourceRecordSets": [RecordSet, ...], "NextRecordName": ..., ...}
        shown = []
        for record_set in result["ResourceRecordSets"]:
            record_set = copy.copy(record_set)  # the stored record keeps its name
            record_set.name = route53_name(record_set.name)
            shown.append(record_set)
        result = dict(result, ResourceRecordSets=shown)
        if result.get("NextRecordName"):
            result["NextRecordName"] = route53_name(result["NextRecordName"])
        return type(answer)(result)

    route53_responses.Route53.list_resource_record_sets = list_resource_record_sets


if __name__ == "__main__":
    _patch_route53()
    sys.exit(main())
