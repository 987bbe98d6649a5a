"""Run folders without processes: states, the metrics follower, the runs CLI and the chart series."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from helpers.runs import fake_run

from tutor.atomic import atomic_write_text
from tutor.cli import main
from tutor.training import events as ev
from tutor.training import runs
from tutor.training.metrics_follower import MetricsFollower
from tutor.training.series import Series, downsample, render_text, smooth


def test_states_from_the_files() -> None:
    done = fake_run("done")
    assert runs.run_state(done) == ("done", "")
    killed = fake_run(None)
    state, message = runs.run_state(killed)
    assert state == "failed" and "resume" in message
    # A live pid that is not a run process (a recycled pid) does not count as running.
    (killed / "pid").write_text(str(os.getpid()))
    assert runs.run_state(killed)[0] == "failed"


def test_find_run_by_id_prefix_and_last() -> None:
    with pytest.raises(runs.RunNotFound, match="no training runs yet"):
        runs.find_run("last")
    first = fake_run()
    time.sleep(1.1)  # ids carry the second they were made
    second = fake_run()
    assert runs.find_run("last") == second
    assert runs.find_run(first.name) == first
    assert runs.find_run(first.name[:-2]) == first
    with pytest.raises(runs.RunNotFound, match="No run is called"):
        runs.find_run("nope")


def test_runs_cli_lists_shows_and_deletes(capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = fake_run("done")
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    assert run_dir.name in out and "done" in out and "90.0%" in out
    assert main(["runs", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["runs"]
    assert listed[0]["run"] == run_dir.name and listed[0]["epoch"] == 2
    assert main(["runs", "show", "last"]) == 0
    out = capsys.readouterr().out
    assert "epoch 2: train loss 0.2500" in out and "smoothed" in out
    assert main(["runs", "stop", "last"]) == 1
    assert "not running" in capsys.readouterr().err
    assert main(["runs", "show", "missing"]) == 2
    assert main(["runs", "delete", run_dir.name]) == 0
    assert not run_dir.exists()


def test_follower_reads_whole_lines_and_notices_a_rewrite(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    follower = MetricsFollower(run_dir)
    assert follower.poll() == ([], False)
    path = run_dir / "metrics.jsonl"
    with path.open("w") as handle:
        handle.write('{"event": "notice", "message": "a"}\n{"event": "re')
    assert follower.poll() == ([ev.Notice("a")], False)
    with path.open("a") as handle:
        handle.write('sume", "epoch": 1, "step": 1}\n')
    assert follower.poll() == ([ev.Resume(epoch=1, step=1)], False)
    atomic_write_text(path, '{"event": "notice", "message": "b"}\n')  # a resume rewrote the file
    assert follower.poll() == ([ev.Notice("b")], True)


def test_series_smoothing_and_downsampling() -> None:
    assert smooth([1.0, 1.0, 1.0]) == pytest.approx([1.0, 1.0, 1.0])  # no drag towards zero
    xs, ys = downsample(list(range(10_000)), [float(i) for i in range(10_000)], 160)
    assert len(xs) == len(ys) == 160
    assert ys[0] < ys[-1]
    series = Series.from_events(runs.read_events(fake_run()))
    assert len(series.steps) == 100 and series.val_accuracies == pytest.approx([0.85, 0.9])
    assert "val accuracy" in render_text(series, width=60, height=15, color=False)
    assert render_text(Series()) == "No training steps logged yet."
