"""Filter kubeflow_ops.aws.route53_records_for, run by ansible-playbook as the kfserving role calls it."""

from __future__ import annotations

import json
import textwrap

from tests.sandbox.harness.playbook import playbook_env, run_playbook

PLAY = """\
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    alias: true
  tasks:
    - name: Call the filter
      ansible.builtin.copy:
        dest: "{{ out }}"
        content: "{{ result | to_json }}"
      vars:
        result:
          cname: >-
            {{ ['research', 'staging'] | kubeflow_ops.aws.route53_records_for(name_format='*.{}.example.com',
               type='CNAME', ttl=60, values=['lb.example.net']) }}
          alias: >-
            {{ ['research'] | kubeflow_ops.aws.route53_records_for(name_format='*.{}.example.com', type='A',
               values=(none if alias else ['lb.example.net']), alias=({'dns_name': 'dualstack.lb.example.net'} if alias else none)) }}
    - name: An unknown key fails
      ansible.builtin.debug:
        msg: "{{ ['x'] | kubeflow_ops.aws.route53_records_for(tll=60) }}"
"""


def test_one_record_per_name_without_null_keys(tmp_path):
    book = tmp_path / "play.yml"
    book.write_text(textwrap.dedent(PLAY))
    inventory = tmp_path / "hosts"
    inventory.write_text("localhost\n")
    out = tmp_path / "out.json"
    env = playbook_env({}, {"ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp")})
    run = run_playbook(str(book), env, inventory=str(inventory), args=["-e", f"out={out}"], timeout=120)
    result = json.loads(out.read_text())
    assert result["cname"] == [
        {"name": "*.research.example.com", "type": "CNAME", "ttl": 60, "values": ["lb.example.net"]},
        {"name": "*.staging.example.com", "type": "CNAME", "ttl": 60, "values": ["lb.example.net"]},
    ]
    assert result["alias"] == [
        {"name": "*.research.example.com", "type": "A", "alias": {"dns_name": "dualstack.lb.example.net"}}
    ]
    assert run.rc != 0 and "unknown record keys tll" in run.output
