"""One epoch of the Fashion-MNIST MLP (Adam, batch 64): ``pytorch-tutor train`` vs the course's loop.

The course's loop: torchvision's FashionMNIST with ToTensor + Normalize per image, a DataLoader with
batch 64, shuffled. Both use the same thread count (the one the trainer picked, reported in its
start event) and the same data files. Needs the full set (Debian's dataset-fashion-mnist) or
``--data-root``; prints seconds and the ratio.

``--against DIR`` compares this checkout's trainer with another one's instead (e.g. an older commit
unpacked with ``git archive REV | tar -x -C DIR``): both train the same epochs in turn, alternating
which goes first, and the ratio of their median seconds per epoch is printed. It works on the
bundled sample too (use more ``--epochs`` there: a sample epoch is short).

    .venv/bin/python benchmarks/train_epoch.py [--data-root DIR] [--repeat 1]
    .venv/bin/python benchmarks/train_epoch.py --against /tmp/old --epochs 20 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def ours(
    home: str, data_root: str | None, tree: Path = REPO, epochs: int = 1, sample_ok: bool = False
) -> dict[str, float]:
    """Run ``pytorch-tutor train mlp --epochs N --json`` from ``tree`` and read its epoch events."""
    env = dict(os.environ, PYTORCH_TUTOR_HOME=home, PYTORCH_TUTOR_OFFLINE="1")
    env["PYTHONPATH"] = str(tree)
    if data_root:
        env["PYTORCH_TUTOR_DATA"] = data_root
    command = [sys.executable, "-m", "tutor", "train", "mlp", "--epochs", str(epochs)]
    command += ["--device", "cpu", "--batch-size", "64", "--lr", "0.003", "--json"]
    began = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{tree}: train failed: {done.stderr.strip()[-400:]}")
    out = done.stdout
    wall = time.perf_counter() - began
    events = [json.loads(line) for line in out.splitlines()]
    epoch = next(e for e in events if e["event"] == "epoch")
    start = next(e for e in events if e["event"] == "start")
    if start["n_train"] != 60_000 and not sample_ok:
        raise SystemExit("The full Fashion-MNIST set is needed (the sample was used).")
    per_epoch = sorted(e["train_seconds"] for e in events if e["event"] == "epoch")
    return {
        "median_train_s": per_epoch[len(per_epoch) // 2],
        "n_train": start["n_train"],
        "train_s": epoch["train_seconds"],
        "epoch_s": epoch["seconds"],
        "wall_s": wall,
        "threads": start["threads"],
        "root": start["data_source"],
        "val_accuracy": epoch["val_accuracy"],
    }


def course(root: str, threads: int) -> dict[str, float]:
    """The course's loop, as in its notebooks (with next(iter(...)) era fixes)."""
    import torch
    from torch import nn, optim
    from torchvision import datasets, transforms

    torch.set_num_threads(threads)
    torch.manual_seed(7)
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    trainset = datasets.FashionMNIST(root, download=False, train=True, transform=transform)
    trainloader = torch.utils.data.DataLoader(trainset, batch_size=64, shuffle=True)
    model = nn.Sequential(
        nn.Linear(784, 256),
        nn.ReLU(),
        nn.Linear(256, 128),
        nn.ReLU(),
        nn.Linear(128, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
        nn.LogSoftmax(dim=1),
    )
    criterion = nn.NLLLoss()
    optimizer = optim.Adam(model.parameters(), lr=0.003)
    began = time.perf_counter()
    running_loss = 0.0
    for images, labels in trainloader:
        images = images.view(images.shape[0], -1)
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    return {"train_s": time.perf_counter() - began, "loss": running_loss / len(trainloader)}


def against(other: Path, data_root: str | None, epochs: int, repeat: int) -> int:
    """This checkout's trainer vs ``other``'s, in turns; the ratio of median seconds per epoch."""
    mine: list[float] = []
    theirs: list[float] = []
    for attempt in range(1, repeat + 1):
        # Alternate which goes first, so a neighbour's burst of load hits both alike.
        order = [(REPO, mine), (other, theirs)]
        for tree, into in order if attempt % 2 else reversed(order):
            with tempfile.TemporaryDirectory() as home:
                result = ours(home, data_root, tree, epochs, sample_ok=True)
            into.append(result["median_train_s"])
        print(
            f"[{attempt}] {int(result['n_train']):,} images per epoch: this checkout "
            f"{mine[-1] * 1000:.1f} ms per epoch, {other} {theirs[-1] * 1000:.1f} ms"
        )
    a, b = sorted(mine)[len(mine) // 2], sorted(theirs)[len(theirs) // 2]
    print(
        f"median of {repeat}: this checkout {a * 1000:.1f} ms, other {b * 1000:.1f} ms; ratio {a / b:.3f} (below 1: faster)"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--against", type=Path, help="another checkout to compare with")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per run (with --against)")
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    if args.against:
        return against(args.against.resolve(), args.data_root, args.epochs, args.repeat)
    for attempt in range(1, args.repeat + 1):
        with tempfile.TemporaryDirectory() as home:
            mine = ours(home, args.data_root)
            theirs = course(str(mine["root"]), int(mine["threads"]))
        print(
            f"[{attempt}] threads {mine['threads']}: pytorch-tutor train {mine['train_s']:.2f} s "
            f"per epoch ({mine['epoch_s']:.2f} s with evaluation, {mine['wall_s']:.1f} s wall "
            f"with process start and data loading); course loop {theirs['train_s']:.2f} s; "
            f"ratio {theirs['train_s'] / mine['train_s']:.1f}x "
            f"(wall: {theirs['train_s'] / mine['wall_s']:.1f}x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
