"""Data-parallel training with ``torch.distributed``: the lesson's helpers and the launcher's parts.

Nothing here imports torch at module import. Modules: ``env`` (free ports, the variables torchrun
sets, a process group with a timeout), ``launch`` (validating ``--nproc-per-node`` and friends,
building the torchrun command line), ``runtime`` (what a rank does: shard, average metrics, let
rank 0 alone write), ``training`` (ranks agreeing to stop, sharded evaluation), ``selfcheck_process``
(a tiny torchrun-launched run proving the runtime), ``report`` (the ``doctor`` part), ``kernel``
(the one-rank gloo group the lesson's exercises use), and ``ranks`` / ``worker_process`` / ``audits``
(real ranks on 127.0.0.1 running a learner's function for the two-rank checks). It imports no
training module: a training run under torchrun (its supervisor, its ranks, its run files) lives in
``tutor.training`` as ``supervise_process``, ``rank_process`` and ``rank_files``. See
``docs/distributed.md``.
"""
