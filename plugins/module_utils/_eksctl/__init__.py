# -*- coding: utf-8 -*-
# Copyright: kubeflow_ops.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""eksctl for kubeflow_ops.aws (collection-private, may change without notice).

runner: how eksctl is called; config: the ClusterConfig and Kubernetes versions; nodegroups: what node groups
may say and how an inventory's groups become eksctl's.
"""
