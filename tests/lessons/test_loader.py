"""Loader and validation: good files load into typed objects; each broken file gives its message and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.lessons import ConceptStep, ExerciseStep, TrainingStep, load_catalog
from tutor.lessons.loader import load_glossary, load_lesson
from tutor.lessons.model import term_id

FIXTURES = Path(__file__).parents[1] / "fixtures"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_fixture_lessons_load_clean() -> None:
    catalog = load_catalog([FIXTURES / "lessons"])
    assert catalog.problems == []
    assert [lesson.id for lesson in catalog.lessons] == ["basics", "second"]
    basics = catalog.lessons[0]
    assert [s.id for s in basics.steps] == ["intro", "more", "last"]
    assert isinstance(basics.steps[0], ConceptStep)
    assert catalog.step("basics.more") is basics.steps[1]
    assert catalog.glossary.lookup("tensors") is catalog.glossary.lookup("Tensor")


def test_exercise_and_training_steps_are_typed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "01-demo.toml",
        """id = "demo"
title = "Demo"

[[steps]]
id = "sum"
kind = "exercise"
title = "Sum"
prompt = "Make y."
setup = "x = 1"
solution = "y = x + 1"
hints = ["a", "b"]
defines = ["y"]
timeout = 2

[[steps.checks]]
kind = "close"
name = "y"
atol = 0.001

[[steps.wrong_answers]]
code = "y = 0"
message = "wrong value"

[[steps]]
id = "fit"
kind = "training"
title = "Fit"
text = "Train it."
model = "mlp"
epochs = 2
target_train_loss = 0.4
""",
    )
    lesson, problems = load_lesson(path)
    assert problems == []
    assert lesson is not None
    exercise, training = lesson.steps
    assert isinstance(exercise, ExerciseStep)
    assert exercise.full_id == "demo.sum"
    assert exercise.timeout == 2.0
    assert exercise.checks[0].kind == "close" and exercise.checks[0].params == {
        "name": "y",
        "atol": 0.001,
    }
    assert exercise.wrong_answers[0].message == "wrong value"
    assert isinstance(training, TrainingStep)
    assert (training.model, training.epochs, training.dataset) == ("mlp", 2, "fashion-mnist")


LESSON_HEAD = 'id = "demo"\ntitle = "Demo"\n'
CONCEPT = '[[steps]]\nid = "a"\nkind = "concept"\ntitle = "A"\ntext = "x"\n'

# (file text, expected message fragment, expected line)
BROKEN_CASES = [
    pytest.param(LESSON_HEAD + "[[steps]\n", "invalid TOML", 3, id="toml-syntax"),
    pytest.param(
        LESSON_HEAD + CONCEPT + "colour = 1\n", "unknown key 'colour'", 8, id="unknown-key"
    ),
    pytest.param(
        LESSON_HEAD + '[[steps]]\nid = "a"\nkind = "concept"\ntitle = "A"\n',
        "missing required key 'text'",
        3,
        id="missing-field",
    ),
    pytest.param(
        LESSON_HEAD + '[[steps]]\nid = "a"\nkind = "concept"\ntitle = 5\ntext = "x"\n',
        "'title' must be a str",
        6,
        id="wrong-type",
    ),
    pytest.param(LESSON_HEAD + CONCEPT + CONCEPT, "duplicate step id 'a'", 8, id="duplicate-id"),
    pytest.param(
        LESSON_HEAD + '[[steps]]\nid = "a"\nkind = "quiz"\ntitle = "A"\n',
        "'kind' must be one of",
        5,
        id="bad-kind",
    ),
    pytest.param(
        'id = "other"\ntitle = "Demo"\n' + CONCEPT,
        "must equal the file's slug 'demo'",
        1,
        id="id-slug",
    ),
    pytest.param(
        LESSON_HEAD + '[[steps]]\nid = "Bad Id"\nkind = "concept"\ntitle = "A"\ntext = "x"\n',
        "ids use lower-case",
        4,
        id="bad-step-id",
    ),
    pytest.param(
        LESSON_HEAD
        + '[[steps]]\nid = "e"\nkind = "exercise"\ntitle = "E"\nprompt = "p"\nsolution = "y = 1"\n'
        + 'hints = ["ok", 3]\n',
        "'hints' must be a list of strings",
        9,
        id="hints-not-strings",
    ),
    pytest.param(
        LESSON_HEAD + 'text = """\n[[steps]]\nnot a table\n"""\nwhat = 1\n' + CONCEPT,
        "unknown key 'text'",
        3,
        id="multiline-string-skipped",
    ),
]


@pytest.mark.parametrize(("text", "message", "line"), BROKEN_CASES)
def test_broken_lesson_reports_message_and_line(
    tmp_path: Path, text: str, message: str, line: int
) -> None:
    path = write(tmp_path, "01-demo.toml", text)
    catalog = load_catalog([path])
    matching = [p for p in catalog.problems if message in p.message]
    assert matching, [str(p) for p in catalog.problems]
    assert matching[0].line == line
    assert str(matching[0]).startswith(f"{path}:{line}: ")


def test_bad_file_name_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "tensors.toml", LESSON_HEAD + CONCEPT)
    catalog = load_catalog([tmp_path])
    assert any("NN-slug.toml" in p.message and p.path == path for p in catalog.problems)


def test_broken_file_does_not_stop_the_others(tmp_path: Path) -> None:
    write(tmp_path, "01-demo.toml", LESSON_HEAD + CONCEPT)
    write(tmp_path, "02-broken.toml", "id = [\n")
    catalog = load_catalog([tmp_path])
    assert [lesson.id for lesson in catalog.lessons] == ["demo"]
    assert len(catalog.broken) == 1
    assert catalog.broken[0].path.name == "02-broken.toml"
    assert "invalid TOML" in catalog.broken[0].reason


def test_links_to_missing_terms_steps_and_lessons(tmp_path: Path) -> None:
    write(
        tmp_path,
        "01-demo.toml",
        LESSON_HEAD
        + '[[steps]]\nid = "a"\nkind = "concept"\ntitle = "A"\n'
        + 'text = "[[tensor]] [[unicorn]] [[@demo.nope]] [[@nolesson]] [[@demo.a]]"\n',
    )
    write(
        tmp_path,
        "glossary.toml",
        '[[terms]]\nterm = "Tensor"\ndefinition = "d"\nrelated = ["ghost"]\nsteps = ["demo.zzz"]\n',
    )
    messages = [p.message for p in load_catalog([tmp_path]).problems]
    assert any("unknown glossary term 'unicorn'" in m for m in messages)
    assert any("unknown lesson or step 'demo.nope'" in m for m in messages)
    assert any("unknown lesson or step 'nolesson'" in m for m in messages)
    assert any("related: unknown term 'ghost'" in m for m in messages)
    assert any("steps: unknown step 'demo.zzz'" in m for m in messages)
    assert not any("'tensor'" in m or "demo.a'" in m for m in messages)


def test_glossary_duplicates_and_empty(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "glossary.toml",
        '[[terms]]\nterm = "Tensor"\ndefinition = "d"\n\n[[terms]]\nterm = "tensor"\ndefinition = "e"\n',
    )
    _, problems = load_glossary(path)
    assert any("already used on line 1" in p.message and p.line == 6 for p in problems)
    empty = write(tmp_path, "empty.toml", "")
    glossary, problems = load_glossary(empty)
    assert glossary.terms == () and "no [[terms]]" in problems[0].message


def test_loading_never_runs_code(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    write(
        tmp_path,
        "01-demo.toml",
        LESSON_HEAD
        + '[[steps]]\nid = "e"\nkind = "exercise"\ntitle = "E"\nprompt = "p"\n'
        + f"setup = \"open({str(marker)!r}, 'w')\"\nsolution = \"open({str(marker)!r}, 'w')\"\n",
    )
    catalog = load_catalog([tmp_path])
    assert catalog.lessons and not marker.exists()


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "01-demo.toml"
    path.write_bytes(b"\xff\xfe\x00bad")
    catalog = load_catalog([path])
    assert "cannot read the file" in catalog.problems[0].message


def test_term_ids_are_stable() -> None:
    assert term_id("Tensor.view") == "tensor-view"
    assert term_id("step size (learning rate)") == "step-size-learning-rate"
    assert term_id("  Stochastic Gradient Descent ") == "stochastic-gradient-descent"


def test_nearest_steps() -> None:
    catalog = load_catalog([FIXTURES / "lessons"])
    assert catalog.nearest_steps("basics.intr")[0] == "basics.intro"
    assert catalog.nearest_steps("basics.zzzzzz")[0].startswith("basics.")
