"""One epoch of the Fashion-MNIST MLP (Adam, batch 64): ``pytorch-tutor train`` vs the course's loop.

The course's loop: torchvision's FashionMNIST with ToTensor + Normalize per image, a DataLoader with
batch 64, shuffled. Both use the same thread count (the one the trainer picked, reported in its
start event) and the same data files. Needs the full set (Debian's dataset-fashion-mnist) or
``--data-root``; prints seconds and the ratio.

    .venv/bin/python benchmarks/train_epoch.py [--data-root DIR] [--repeat 1]
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


def ours(home: str, data_root: str | None) -> dict[str, float]:
    """Run ``pytorch-tutor train mlp --epochs 1 --json`` and read its epoch event."""
    env = dict(os.environ, PYTORCH_TUTOR_HOME=home, PYTORCH_TUTOR_OFFLINE="1")
    if data_root:
        env["PYTORCH_TUTOR_DATA"] = data_root
    command = [sys.executable, "-m", "tutor", "train", "mlp", "--epochs", "1", "--device", "cpu"]
    command += ["--batch-size", "64", "--lr", "0.003", "--json"]
    began = time.perf_counter()
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - began
    events = [json.loads(line) for line in out.splitlines()]
    epoch = next(e for e in events if e["event"] == "epoch")
    start = next(e for e in events if e["event"] == "start")
    if start["n_train"] != 60_000:
        raise SystemExit("The full Fashion-MNIST set is needed (the sample was used).")
    return {
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
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
