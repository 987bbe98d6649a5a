"""The kernel child: REPL state, output capture, and recovery from timeouts, crashes and bombs."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator

import pytest

from tutor.kernel import Kernel

SETUP = "import torch\na = torch.ones(2)\n"


@pytest.fixture(scope="module")
def kernel() -> Iterator[Kernel]:
    k = Kernel.start(memory_mb=1200, spare=True)
    yield k
    k.close()


@pytest.fixture
def fresh(kernel: Kernel) -> Kernel:
    assert kernel.reset(setup=SETUP).ok
    assert kernel.run("b = a * 2").ok
    return kernel


def values(kernel: Kernel) -> str:
    return kernel.run("print(a.tolist(), b.tolist())").output.strip()


def test_namespace_persists_and_last_expression_prints(fresh: Kernel) -> None:
    result = fresh.run("c = b + 1\nc.sum()")
    assert result.ok
    assert "tensor(6.)" in result.output
    assert result.summary["c"] == {
        "kind": "tensor",
        "shape": [2],
        "dtype": "float32",
        "device": "cpu",
    }


def test_module_summary_names_type_and_parameters(fresh: Kernel) -> None:
    result = fresh.run("m = torch.nn.Linear(3, 2)")
    assert result.summary["m"]["type"] == "Linear"
    assert result.summary["m"]["parameters"] == 8


def test_output_streams_to_callback(fresh: Kernel) -> None:
    seen: list[tuple[str, str]] = []
    result = fresh.run(
        "import sys\nprint('one')\nprint('two', file=sys.stderr)",
        on_output=lambda stream, text: seen.append((stream, text)),
    )
    assert result.ok
    assert ("stdout", "one\n") in seen
    assert ("stderr", "two\n") in seen


def test_exception_traceback_points_at_learner_line(fresh: Kernel) -> None:
    result = fresh.run("x = 1\ny = a @ torch.ones(3)\n")
    assert result.status == "error"
    assert 'File "<answer>", line 2' in result.error
    assert "y = a @ torch.ones(3)" in result.error
    assert "tutor" not in result.error  # no frames of the tutor itself


def test_syntax_error_has_caret_under_learner_code(fresh: Kernel) -> None:
    result = fresh.run("y = (1 +\n")
    assert result.status == "error"
    assert "SyntaxError" in result.error
    lines = result.error.splitlines()
    caret = next(i for i, line in enumerate(lines) if line.strip() == "^")
    assert "y = (1 +" in lines[caret - 1]


def test_timeout_interrupts_and_restores_state(fresh: Kernel) -> None:
    started = time.monotonic()
    result = fresh.run("a.add_(100)\nwhile True:\n    pass\n", timeout=1.0)
    assert result.status == "timeout"
    assert not result.ok
    assert "longer than 1 s" in result.error
    assert "as they were before this run" in result.notice
    assert time.monotonic() - started < 5
    assert values(fresh) == "[1.0, 1.0] [2.0, 2.0]"


def test_print_flood_is_cut_and_kernel_stays_usable(fresh: Kernel) -> None:
    chunks: list[str] = []
    result = fresh.run(
        "while True:\n    print('x' * 100)\n", timeout=1.5, on_output=lambda _s, t: chunks.append(t)
    )
    assert result.status == "timeout"
    text = "".join(chunks)
    assert "output cut after 64 KB" in text
    assert len(text) < 70 * 1024
    assert values(fresh) == "[1.0, 1.0] [2.0, 2.0]"


def test_os_exit_is_a_crash_and_restart_restores(fresh: Kernel) -> None:
    before = fresh.pid
    result = fresh.run("b.add_(1)\nimport os\nos._exit(3)")
    assert result.status == "crashed"
    assert "exited with code 3" in result.error
    assert "restarted" in result.notice
    assert fresh.pid != before
    assert values(fresh) == "[1.0, 1.0] [2.0, 2.0]"


def test_segfault_is_a_crash(fresh: Kernel) -> None:
    result = fresh.run("import ctypes\nctypes.string_at(0)")
    assert result.status == "crashed"
    assert "segmentation fault" in result.error
    assert values(fresh) == "[1.0, 1.0] [2.0, 2.0]"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="memory is watched through /proc")
def test_memory_bomb_is_stopped(fresh: Kernel) -> None:
    result = fresh.run("xs = []\nwhile True:\n    xs.append(torch.ones(10**7))", timeout=30)
    assert result.status == "memory"
    assert "1200 MB" in result.error
    assert values(fresh) == "[1.0, 1.0] [2.0, 2.0]"


def test_system_exit_fails_but_keeps_kernel(fresh: Kernel) -> None:
    before = fresh.pid
    for code in ("raise SystemExit(4)", "import sys\nsys.exit()", "exit()"):
        result = fresh.run(code)
        assert result.status == "exit"
        assert "SystemExit" in result.error
    assert fresh.pid == before


def test_input_gets_end_of_file_not_protocol(fresh: Kernel) -> None:
    result = fresh.run("input()")
    assert result.status == "error"
    assert "EOFError" in result.error


def test_odd_unicode_and_huge_input(fresh: Kernel) -> None:
    assert fresh.run("s = '\\ud800 é 😀 \\x00'\nprint(len(s))").output.strip() == "7"
    huge = "# " + "é" * (1024 * 1024 // 2) + "\nz = 1\n"
    assert fresh.run(huge).ok
    assert fresh.run("").ok


def test_reset_restores_post_setup_state(fresh: Kernel) -> None:
    fresh.run("a.add_(5)\nq = 1")
    assert fresh.reset(setup=SETUP).ok
    result = fresh.run("print(a.tolist(), 'q' in globals())")
    assert result.output.strip() == "[1.0, 1.0] False"


def test_another_thread_keeps_running_while_code_runs(fresh: Kernel) -> None:
    """The UI waits in a worker thread: the caller's other threads are never blocked."""
    ticks: list[float] = []
    stop = threading.Event()

    def tick() -> None:
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.01)

    thread = threading.Thread(target=tick)
    thread.start()
    try:
        assert fresh.run("import time\ntime.sleep(0.5)").ok
    finally:
        stop.set()
        thread.join()
    assert len(ticks) > 20
