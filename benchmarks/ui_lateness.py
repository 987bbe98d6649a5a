"""UI timer lateness while a run trains and the training screen follows it. Target: p95 20 ms or less.

Starts a real run (the MLP, 2 epochs, in its own process, as the app does), opens the
TrainingScreen on it at 80x24 (headless), and records how late a 50 ms interval timer fires while
the run is training: that lateness is what a learner feels as a sluggish UI.

    .venv/bin/python benchmarks/ui_lateness.py [--epochs 2] [--model mlp]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TICK_S = 0.05


async def baseline(seconds: float) -> None:
    """The same timer in an idle app: how late timers fire on this machine anyway."""
    from textual.app import App

    lateness: list[float] = []

    class IdleApp(App[None]):
        def on_mount(self) -> None:
            self.expected = time.perf_counter() + TICK_S
            self.set_interval(TICK_S, self.tick)

        def tick(self) -> None:
            now = time.perf_counter()
            lateness.append(max(0.0, now - self.expected) * 1000)
            self.expected = now + TICK_S

    app = IdleApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(seconds)
    ordered = sorted(lateness)
    print(
        f"idle app, {len(lateness)} ticks: lateness median {statistics.median(lateness):.1f} ms, "
        f"p95 {ordered[int(0.95 * (len(ordered) - 1))]:.1f} ms, max {ordered[-1]:.1f} ms; "
        f"load average {os.getloadavg()[0]:.2f}"
    )


async def measure(model: str, epochs: int) -> None:
    from textual.app import App

    from tutor.training import runs
    from tutor.training.config import TrainConfig
    from tutor.ui.screens.training import TrainingScreen

    run_dir = runs.create_run(TrainConfig(model=model, epochs=epochs, device="cpu"))
    runs.start(run_dir)
    lateness: list[float] = []

    class LatenessApp(App[None]):
        def on_mount(self) -> None:
            self.expected = time.perf_counter() + TICK_S
            self.set_interval(TICK_S, self.tick)
            self.push_screen(TrainingScreen(run_dir.name))

        def tick(self) -> None:
            now = time.perf_counter()
            screen = self.screen
            if (
                isinstance(screen, TrainingScreen)
                and screen.last_step
                and screen.state == "running"
            ):
                lateness.append(max(0.0, now - self.expected) * 1000)
            self.expected = now + TICK_S

    app = LatenessApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            await pilot.pause(0.2)
            screen = app.screen
            if isinstance(screen, TrainingScreen) and screen.state != "running":
                break
        chart_draws = screen.query_one("LossChart").draws  # type: ignore[union-attr]
    if not lateness:
        print("The run ended before any lateness was recorded; see", run_dir / "log")
        return
    ordered = sorted(lateness)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    print(
        f"{len(lateness)} ticks while training {model} ({epochs} epochs): lateness median "
        f"{statistics.median(lateness):.1f} ms, p95 {p95:.1f} ms, max {ordered[-1]:.1f} ms; "
        f"chart rebuilt {chart_draws} times; load average {os.getloadavg()[0]:.2f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--baseline", action="store_true", help="also measure an idle app")
    args = parser.parse_args()
    if args.baseline:
        asyncio.run(baseline(6.0))
    with tempfile.TemporaryDirectory() as home:
        os.environ["PYTORCH_TUTOR_HOME"] = home
        os.environ.setdefault("PYTORCH_TUTOR_OFFLINE", "1")
        asyncio.run(measure(args.model, args.epochs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
