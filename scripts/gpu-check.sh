#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: print the real device report, train one epoch on cuda through
# the CLI, run the fair CPU vs GPU timing demo, a one-GPU nccl DDP run under torchrun and the same
# through `train --nproc-per-node 1`. Exit 0 when all five work; 1 when a step fails or there is no usable GPU (the report says why); 2 when
# Python, torch or the tutor is missing. PYTHON picks the interpreter (default: .venv/bin/python, else python3);
# GPU_CHECK_SIZE the matrix side of the timing demo (default 2048). Progress and runs go to a
# temporary PYTORCH_TUTOR_HOME unless one is set, so a learner's own data is never touched.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [[ -n "${PYTHON:-}" ]]; then
    py="$PYTHON"
elif [[ -x .venv/bin/python ]]; then
    py=.venv/bin/python
else
    py="$(command -v python3 || true)"
fi
if [[ -z "$py" ]]; then
    echo "gpu-check: no Python found: set PYTHON=/path/to/python." >&2
    exit 2
fi
if ! "$py" -c "import torch, tutor" 2>/dev/null; then
    echo "gpu-check: $py cannot import torch and the tutor: install the project (pip install -e .) or set PYTHON." >&2
    exit 2
fi

if [[ -z "${PYTORCH_TUTOR_HOME:-}" ]]; then
    PYTORCH_TUTOR_HOME="$(mktemp -d)"
    export PYTORCH_TUTOR_HOME
    trap 'rm -rf "$PYTORCH_TUTOR_HOME"' EXIT
fi

step="start"
trap 'echo "gpu-check: step \"$step\" failed (exit $?)." >&2' ERR

tutor() { "$py" -m tutor "$@"; }

step="device report"
echo "== 1/5 device report: pytorch-tutor doctor"
tutor doctor
report="$(tutor doctor --json)"
verdict="$(printf '%s' "$report" | "$py" -c '
import json, sys
r = json.load(sys.stdin)
print("yes" if r["cuda_available"] else "no: " + (r["cuda_error"] or r["cuda_reason"] or "unknown"))
')"
if [[ "$verdict" != "yes" ]]; then
    echo "gpu-check: CUDA is not usable here (${verdict#no: }); training on cuda and the GPU timing need a GPU." >&2
    exit 1
fi

step="one epoch on cuda"
echo
echo "== 2/5 one epoch on cuda: pytorch-tutor train mlp --epochs 1 --device cuda"
started=$SECONDS
tutor train mlp --epochs 1 --device cuda
echo "(the epoch, with start-up, took $((SECONDS - started)) s)"

step="timing demo"
echo
echo "== 3/5 timing demo: python -m tutor.devices.timing"
"$py" -m tutor.devices.timing --size "${GPU_CHECK_SIZE:-2048}" --repeats 10

step="nccl run"
echo
echo "== 4/5 DDP with nccl on one GPU: torchrun --standalone --nproc-per-node 1 --module tutor.distributed.selfcheck_process"
ddp_out="$(mktemp -d)"
"$py" -m torch.distributed.run --standalone --nproc-per-node 1 \
    --module tutor.distributed.selfcheck_process "$ddp_out" --device cuda
"$py" -c '
import json, sys
r = json.load(open(sys.argv[1]))
m = r["metrics"]
print("rank %d of %d on %s: loss %.4f, accuracy %.3f" % (r["rank"], r["world_size"], r["device"], m["loss"], m["accuracy"]))
' "$ddp_out/rank0.json"
rm -rf "$ddp_out"

step="train on nccl"
echo
echo "== 5/5 train under torchrun with nccl: pytorch-tutor train mlp --epochs 1 --device cuda --nproc-per-node 1"
tutor train mlp --epochs 1 --device cuda --nproc-per-node 1

echo
echo "gpu-check: all five steps passed."
