"""Filter kubeflow_ops.aws.route53_records_for, run by ansible-playbook as the kfserving role calls it."""

from __future__ import annotations

from tests.unit.plugins.filter.play import run_filter_play

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
    run, result = run_filter_play(tmp_path, PLAY)
    assert result["cname"] == [
        {"name": "*.research.example.com", "type": "CNAME", "ttl": 60, "values": ["lb.example.net"]},
        {"name": "*.staging.example.com", "type": "CNAME", "ttl": 60, "values": ["lb.example.net"]},
    ]
    assert result["alias"] == [
        {"name": "*.research.example.com", "type": "A", "alias": {"dns_name": "dualstack.lb.example.net"}}
    ]
    assert run.rc != 0 and "unknown record keys tll" in run.output
