# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options shared by the modules that wrap eksctl.
    DOCUMENTATION = r"""
options:
  region:
    description:
      - AWS region of the cluster. Falls back to E(AWS_REGION) / E(AWS_DEFAULT_REGION) when not given.
    type: str
    aliases: [aws_region]
  profile:
    description: AWS profile eksctl should use (sets E(AWS_PROFILE) for eksctl).
    type: str
    aliases: [aws_profile]
  eksctl_timeout:
    description: Value of eksctl's C(--timeout) for long operations (eksctl duration syntax).
    type: str
    default: 40m
  eksctl_path:
    description: Path to the eksctl binary. Looked up on E(PATH) when not given.
    type: path
notes:
  - eksctl reaches AWS with its own credentials chain; pass O(profile) or set the usual AWS environment variables.
  - Arguments are passed to eksctl as a list, never through a shell. On failure the result has RV(cmd), RV(rc),
    RV(stdout) and RV(stderr) of the failing command.
"""
