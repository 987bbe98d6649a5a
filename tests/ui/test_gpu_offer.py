"""The training step's offer to train on all GPUs, on simulated machines (no GPU, no torchrun here).

The device probe answers with a simulated report (``helpers.machines``); ``runs.start`` is replaced,
so pressing the offer writes a real run folder (config.json, launch.json) and starts no process.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from helpers.apps import HostApp
from helpers.fake_kernel import FakeKernel
from helpers.machines import gpu_report
from helpers.waiting import wait_until
from textual.widgets import Button, Static
from textual.widgets._footer import FooterKey

from tutor.distributed.launch import LaunchOptions
from tutor.kernel import Kernel
from tutor.lessons import load_catalog
from tutor.lessons.model import TrainingStep
from tutor.training import events as ev
from tutor.training import runs
from tutor.training.config import TrainConfig
from tutor.training.rank_files import RunLaunch, read_launch, write_launch
from tutor.ui import hardware
from tutor.ui.app import TutorApp
from tutor.ui.screens.training import TrainingScreen
from tutor.ui.widgets.training_step import TrainingStepPanel, all_gpus_plan

ARRIVAL = Path(__file__).parents[1] / "fixtures" / "arrival"


def make_step(batch_size: int = 64) -> TrainingStep:
    return TrainingStep(
        id="train-it", lesson_id="fashion-mnist", title="Train it", line=None, text="Train.",
        model="mlp", epochs=1, batch_size=batch_size,
    )  # fmt: skip


class CountingProbe:
    """A probe answering with ``report`` (raising when it is None) and counting its calls."""

    def __init__(self, report: dict[str, Any] | None) -> None:
        self.report = report
        self.calls = 0

    def __call__(self, cancel: threading.Event) -> dict[str, Any]:
        self.calls += 1
        if self.report is None:
            raise RuntimeError("The device probe failed (exit 1): no driver")
        return dict(self.report)


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Run folders ``runs.start`` was asked to start; no process is started."""
    folders: list[Path] = []

    def start(run_dir: Path, resume: bool = False, echo_fd: int | None = None) -> int:
        folders.append(run_dir)
        return 0

    monkeypatch.setattr(runs, "start", start)
    return folders


def on_machine(monkeypatch: pytest.MonkeyPatch, gpus: int) -> CountingProbe:
    """A machine with ``gpus`` GPUs: as many device files, and a probe that finds them."""
    probe = CountingProbe(gpu_report(gpus))
    monkeypatch.setattr(hardware, "probe", probe)
    monkeypatch.setattr(hardware, "gpu_device_files", lambda: gpus)
    return probe


def panel_app(device: str | None, db: Any, step: TrainingStep | None = None) -> HostApp:
    if device is not None:
        db.set_setting("device", device)
    return HostApp(widgets=lambda: [TrainingStepPanel(step or make_step())], db=db)


async def settled(app: HostApp, pilot: Any) -> TrainingStepPanel:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    return app.query_one(TrainingStepPanel)


def settings_text(panel: TrainingStepPanel) -> str:
    return str(panel.query_one("#training-step-settings", Static).render())


def footer_labels(app: Any) -> list[str]:
    return [f"{key.key_display} {key.description}" for key in app.screen.query(FooterKey)]


# When the offer appears --------------------------------------------------------------------


@pytest.mark.parametrize("device", ["auto", "cuda"])
async def test_four_gpus_offer_a_run_on_all_of_them(
    monkeypatch: pytest.MonkeyPatch, db: Any, device: str
) -> None:
    on_machine(monkeypatch, 4)
    app = panel_app(device, db)
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await settled(app, pilot)
        button = panel.query_one("#training-step-gpus", Button)
        assert button.display and str(button.label) == "Train on all 4 GPUs (F6)"
        assert "4 GPUs: batch 16 per GPU, global batch 64" in settings_text(panel)
        assert "Adam, lr 0.003, batch 64" in settings_text(panel)  # the step's own batch stays


@pytest.mark.parametrize(
    ("gpus", "device"),
    [(1, "auto"), (0, "auto"), (1, "cuda"), (4, "cpu"), (4, "mps"), (4, "cuda:1")],
)
async def test_no_offer_without_several_gpus_or_with_another_device(
    monkeypatch: pytest.MonkeyPatch, db: Any, gpus: int, device: str, started: list[Path]
) -> None:
    probe = on_machine(monkeypatch, gpus)
    app = panel_app(device, db)
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await settled(app, pilot)
        assert not panel.query_one("#training-step-gpus", Button).display
        assert "GPUs" not in settings_text(panel)
        assert not any(label.startswith("f6") for label in footer_labels(app))
        await pilot.press("f6")
        await pilot.pause()
        assert started == [] and runs.list_runs() == []
    # No probe (no torch import) where no offer can come of it: the setting leaves no room for
    # it, or the device files show fewer than two GPUs.
    assert probe.calls == (0 if device in ("cpu", "mps", "cuda:1") or gpus < 2 else 1)


async def test_without_device_files_to_count_the_probe_decides(
    monkeypatch: pytest.MonkeyPatch, db: Any
) -> None:
    # WSL, or a system whose files say nothing: the probe runs and finds the GPUs.
    probe = on_machine(monkeypatch, 2)
    monkeypatch.setattr(hardware, "gpu_device_files", lambda: None)
    app = panel_app("auto", db)
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await settled(app, pilot)
        assert panel.query_one("#training-step-gpus", Button).display
    assert probe.calls == 1


async def test_the_probe_runs_once_per_app_and_a_failed_one_offers_nothing(
    monkeypatch: pytest.MonkeyPatch, db: Any
) -> None:
    on_machine(monkeypatch, 2)
    failing = CountingProbe(None)
    monkeypatch.setattr(hardware, "probe", failing)
    app = panel_app(None, db)
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await settled(app, pilot)
        assert not panel.query_one("#training-step-gpus", Button).display
        assert app.notes == []  # nobody asked: no notice
    # The next training step does not probe again after a failure; after a report, it uses it.
    second = panel_app(None, db)
    async with second.run_test(size=(80, 24)) as pilot:
        panel = await settled(second, pilot)
        assert not panel.query_one("#training-step-gpus", Button).display
    assert failing.calls == 1
    hardware.remember(gpu_report(2))
    again = panel_app(None, db)
    async with again.run_test(size=(80, 24)) as pilot:
        panel = await settled(again, pilot)
        assert str(panel.query_one("#training-step-gpus", Button).label) == (
            "Train on all 2 GPUs (F6)"
        )
    assert failing.calls == 1


def test_the_global_batch_is_kept_rounding_each_rank_up() -> None:
    plan = all_gpus_plan(make_step(batch_size=50), "auto", 4)
    assert plan is not None
    config, launch = plan
    assert config.batch_size == 13 and launch.world_size == 4 and launch.device_type == "cuda"
    assert all_gpus_plan(make_step(batch_size=64), "cuda", 8) is not None
    assert all_gpus_plan(make_step(), "cuda:0", 8) is None


async def test_a_batch_that_does_not_divide_says_it_was_rounded_up(
    monkeypatch: pytest.MonkeyPatch, db: Any
) -> None:
    on_machine(monkeypatch, 4)
    app = panel_app("auto", db, make_step(batch_size=50))
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await settled(app, pilot)
        assert "4 GPUs: batch 13 per GPU, global batch 52 (50 rounded up)" in settings_text(panel)


# Pressing it ---------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["f6", "button"])
async def test_the_offer_starts_the_step_on_every_gpu_and_opens_its_screen(
    monkeypatch: pytest.MonkeyPatch, db: Any, started: list[Path], how: str
) -> None:
    on_machine(monkeypatch, 4)
    app = panel_app("auto", db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(app, pilot)
        if how == "f6":
            await pilot.press("f6")
        else:
            await pilot.click("#training-step-gpus")
        await pilot.pause()
        assert len(started) == 1
        run_dir = started[0]
        launch = json.loads((run_dir / "launch.json").read_text())
        assert launch["nproc_per_node"] == 4 and launch["nnodes"] == 1
        assert launch["device_type"] == "cuda" and launch["rdzv_endpoint"] is None
        config = json.loads((run_dir / "config.json").read_text())
        assert config["batch_size"] == 16 and config["step_id"] == "fashion-mnist.train-it"
        assert config["epochs"] == 1 and config["lr"] == 0.003
        screen = app.screen
        assert isinstance(screen, TrainingScreen) and screen.run_id == run_dir.name
        await wait_until(pilot, lambda: "4 ranks" in info_text(screen), "the ranks named")
        assert "4 ranks, global batch 64" in info_text(screen)


async def test_a_failed_start_gives_one_notice(monkeypatch: pytest.MonkeyPatch, db: Any) -> None:
    on_machine(monkeypatch, 4)

    def start(run_dir: Path, resume: bool = False, echo_fd: int | None = None) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runs, "start", start)
    app = panel_app("auto", db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(app, pilot)
        await pilot.press("f6")
        await pilot.pause()
        assert not isinstance(app.screen, TrainingScreen)
        assert app.notes == [
            "The run could not be started (No space left on device); check the disk and try again."
        ]


async def test_a_device_setting_changed_since_withdraws_the_offer(
    monkeypatch: pytest.MonkeyPatch, db: Any, started: list[Path]
) -> None:
    on_machine(monkeypatch, 4)
    app = panel_app("auto", db)
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await settled(app, pilot)
        assert panel.gpu_plan is not None
        db.set_setting("device", "cpu")  # on the devices screen, say
        panel.action_train_all_gpus()
        await pilot.pause()
        assert started == []
        assert len(app.notes) == 1 and "needs two CUDA GPUs or more" in app.notes[0]
        assert not panel.query_one("#training-step-gpus", Button).display
        assert not any(label.startswith("f6") for label in footer_labels(app))


# In the app -----------------------------------------------------------------------------------


async def test_the_footer_lists_the_offer_in_the_app_at_80x24(
    monkeypatch: pytest.MonkeyPatch, started: list[Path]
) -> None:
    monkeypatch.setattr(Kernel, "start", staticmethod(lambda **kwargs: FakeKernel()))
    on_machine(monkeypatch, 4)
    app = TutorApp(catalog=load_catalog([ARRIVAL]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_step("kinds.train")
        await wait_until(
            pilot,
            lambda: "f6 All GPUs" in footer_labels(app),
            "the offer in the footer",
        )
        labels = footer_labels(app)
        assert labels[:3] == ["f5 Train", "f6 All GPUs", "o Last run"]
        for key in app.screen.query(FooterKey):
            assert key.region.width > 0 and key.region.right <= 80
        await pilot.press("f6")
        await pilot.pause()
        assert len(started) == 1 and read_launch(started[0]) is not None
        assert isinstance(app.screen, TrainingScreen)


# The training screen of a run on several ranks ------------------------------------------------


def info_text(screen: TrainingScreen) -> str:
    return str(screen.query_one("#training-info", Static).render())


def four_rank_run(with_start: bool) -> Path:
    config = TrainConfig(model="mlp", epochs=1, batch_size=16, step_id="fashion-mnist.train-it")
    plan = all_gpus_plan(make_step(), "auto", 4)
    assert plan is not None
    run_dir = runs.create_run(config)
    write_launch(run_dir, plan[1])
    if with_start:
        start = ev.Start(
            device="cuda:0 NVIDIA Test GPU", threads=1, model="mlp", model_summary="",
            model_on="cuda:0", data_on="cuda:0", where="model on cuda:0, data on cuda:0",
            trainable_parameters=1, dataset="fashion-mnist", data_source="", classes=[],
            n_train=60000, n_test=10000, steps_per_epoch=938, epochs=1, batch_size=16,
            start_epoch=1, start_step=0, world_size=4,
        )  # fmt: skip
        (run_dir / "metrics.jsonl").write_text(json.dumps(ev.to_json(start)) + "\n")
    (run_dir / "state.json").write_text(json.dumps({"state": "stopped", "message": ""}))
    return run_dir


@pytest.mark.parametrize("with_start", [True, False], ids=["started", "before-start"])
async def test_the_training_screen_names_the_ranks_and_the_global_batch(with_start: bool) -> None:
    run_dir = four_rank_run(with_start)
    app = HostApp(lambda: TrainingScreen(run_dir.name))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        await wait_until(pilot, lambda: screen.state == "stopped", "the run's state")
        info = info_text(screen)
        assert "4 ranks, global batch 64" in info
        if with_start:
            assert "device: cuda:0 NVIDIA Test GPU · 4 ranks" in info


async def test_the_compact_status_names_the_ranks() -> None:
    run_dir = four_rank_run(True)
    app = HostApp(lambda: TrainingScreen(run_dir.name), styled=True)
    async with app.run_test(size=(60, 18)) as pilot:
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        await wait_until(pilot, lambda: screen.start_info is not None, "the start event")
        status = str(screen.query_one("#training-status", Static).render())
        assert status.endswith("cuda:0, 4 ranks"), status


async def test_train_again_keeps_the_ranks(started: list[Path]) -> None:
    run_dir = four_rank_run(True)
    app = HostApp(lambda: TrainingScreen(run_dir.name))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        assert len(started) == 1 and started[0] != run_dir
        launch = read_launch(started[0])
        assert launch is not None and launch.world_size == 4 and launch.device_type == "cuda"
        assert json.loads((started[0] / "config.json").read_text())["batch_size"] == 16


@pytest.mark.slow
async def test_a_run_on_several_ranks_started_in_the_app_trains_under_torchrun(
    tiny_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The app's own path, for real: start_run writes launch.json, runs.start starts the torchrun
    # supervisor, two gloo ranks train (no GPU here), and the screen follows rank 0's metrics.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    config = TrainConfig(model="mlp", epochs=1, batch_size=5, device="cpu", step_id="x.train")
    first = runs.create_run(config)
    write_launch(first, RunLaunch(LaunchOptions(nproc_per_node=2), "cpu"))
    (first / "state.json").write_text(json.dumps({"state": "stopped", "message": ""}))
    app = HostApp(lambda: TrainingScreen(first.name))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("a")  # train again: a new run on as many ranks
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, TrainingScreen) and app.screen.run_id != first.name,
            "the new run's screen",
        )
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        await wait_until(pilot, lambda: screen.state != "running", "the run to end")
        log = (screen.run_dir / "log").read_text()[-2000:]
        assert screen.state == "done", log
        assert screen.start_info is not None and screen.start_info.world_size == 2
        assert "2 ranks, global batch 10" in info_text(screen)
