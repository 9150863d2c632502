# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # How modules that manage something inside a Cognito user pool name that pool.
    DOCUMENTATION = r"""
options:
  user_pool_id:
    description:
      - Id of the user pool (C(<region>_<id>)). Must be in the region the module runs in.
      - Mutually exclusive with O(user_pool_name); one of them is required.
    type: str
  user_pool_name:
    description:
      - Name of the user pool, looked up with C(ListUserPools).
      - Pool names are not unique in Cognito; when two pools share the name the module fails and lists their ids.
      - Mutually exclusive with O(user_pool_id); one of them is required.
    type: str
"""
