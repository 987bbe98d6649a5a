"""Data-parallel training with ``torch.distributed``: the lesson's helpers and the launcher's parts.

Nothing here imports torch at module import. Modules: ``env`` (free ports, the variables torchrun
sets, a process group with a timeout), ``kernel`` (the one-rank gloo group the lesson's exercises
use in the kernel), ``ranks`` (starting real ranks on 127.0.0.1 to run a learner's function),
``audits`` (what the two-rank checks of ``distributed.average`` and ``distributed.save`` find),
``launch`` (validating ``--nproc-per-node`` and friends, building the torchrun command line) and
``runtime`` (what a rank does: shard, average metrics, let rank 0 alone write).
"""
