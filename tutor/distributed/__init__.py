"""Data-parallel training with ``torch.distributed``: the lesson's helpers and the launcher's parts.

Nothing here imports torch at module import. Modules: ``env`` (free ports, the variables torchrun
sets, a process group with a timeout), ``launch`` (validating ``--nproc-per-node`` and friends,
building the torchrun command line), ``runtime`` (what a rank does: shard, average metrics, let
rank 0 alone write), ``selfcheck`` (a tiny torchrun-launched run proving the runtime), ``report``
(the ``doctor`` part), ``kernel`` (the one-rank gloo group the lesson's exercises use), and
``ranks`` / ``worker`` / ``audits`` (real ranks on 127.0.0.1 running a learner's function for the
two-rank checks). See ``docs/distributed.md``.
"""
