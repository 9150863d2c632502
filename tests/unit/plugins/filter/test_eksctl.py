"""Filters kubeflow_ops.aws.eksctl_node_groups and eksctl_cluster_config, run by ansible-playbook as roles call them.

(A playbook, not an import: importing controller code into the unit test process would change how the module
tests collect warnings.) The rules themselves are tested in tests/unit/plugins/module_utils/test_eksctl_*.py.
"""

from __future__ import annotations

from tests.unit.plugins.filter.play import run_filter_play

PLAY = """\
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Call the filters
      ansible.builtin.copy:
        dest: "{{ out }}"
        content: "{{ result | to_json }}"
      vars:
        result:
          cpu: "{{ [{'name': 'cpu', 'instance_type': 'm5.large'}] | kubeflow_ops.aws.eksctl_node_groups('cpu', tags={'a': 'b'}) }}"
          gpu: >-
            {{ [{'name': 'gpu-t4', 'instance_type': 'g4dn.xlarge'}] | kubeflow_ops.aws.eksctl_node_groups('gpu',
               taint={'key': 'nvidia.com/gpu', 'value': 'true', 'effect': 'NoSchedule'}, label={'key': 'a', 'value': 'b'}) }}
          cluster: "{{ 'kf' | kubeflow_ops.aws.eksctl_cluster_config(region='eu-west-1', version=1.3, addons=[{'name': 'coredns'}]) }}"
    - name: A wrong kind fails
      ansible.builtin.debug:
        msg: "{{ [] | kubeflow_ops.aws.eksctl_node_groups('tpu') }}"
"""


def test_filters_as_roles_call_them(tmp_path):
    run, result = run_filter_play(tmp_path, PLAY)
    assert result["cpu"]["problems"] == [] and result["cpu"]["node_groups"][0]["tags"] == {"a": "b"}
    (gpu,) = result["gpu"]["node_groups"]
    assert gpu["taints"][0]["key"] == "nvidia.com/gpu" and result["gpu"]["expected"][0]["gpus"] == 1
    assert result["cluster"]["config"]["metadata"] == {
        "name": "kf",
        "region": "eu-west-1",
        "version": "1.3",
        "tags": {},
    }
    assert result["cluster"]["addon_problems"] == ["coredns is always installed; do not list it"]
    assert "1.34" in result["cluster"]["supported_versions"]
    assert run.rc != 0 and "kind must be one of cpu, gpu" in run.output
