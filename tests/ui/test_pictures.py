"""Pictures in the terminal: pixel conversion, half-block and NO_COLOR rendering, view classify,
before/after, the bundled samples, and the widgets that show them."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest
from helpers.apps import HostApp
from rich.console import Console
from rich.text import Text
from textual.widget import Widget

from tutor.pictures import (
    Pixels,
    before_after,
    fit,
    image_row,
    probability_bars,
    render_image,
    resize,
    to_pixels,
    use_color,
    view_classify,
)
from tutor.pictures.classify import bar
from tutor.pictures.halfblock import RAMP, UPPER_HALF, ramp_char
from tutor.pictures.pixels import from_bytes
from tutor.pictures.samples import fashion_samples
from tutor.training.data import FASHION_CLASSES
from tutor.ui.widgets.pictures import (
    ClassifyView,
    PictureBase,
    PictureView,
    SampleStrip,
    TransformView,
)

REPO = Path(__file__).resolve().parents[2]


def gradient(width: int, height: int) -> list[list[int]]:
    """A grey image whose value grows to the right and downwards (all pixels distinct in a row)."""
    return [[(x * 7 + y * 3) % 256 for x in range(width)] for y in range(height)]


def rgb_hwc(width: int, height: int) -> list[list[list[int]]]:
    return [[[x * 10 % 256, y * 10 % 256, 128] for x in range(width)] for y in range(height)]


class FakeArray:
    """Stands in for a NumPy array or a CPU tensor: only ``tolist()`` is used."""

    def __init__(self, data: list) -> None:
        self.data = data

    def tolist(self) -> list:
        return self.data


def lines(renderable: object, width: int = 80) -> list[str]:
    console = Console(width=width, color_system=None, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text().rstrip("\n").split("\n")


# --- pixels -----------------------------------------------------------------------------------


def test_grey_bytes_keep_their_values() -> None:
    pixels = to_pixels([[0, 128], [255, 7]])
    assert (pixels.width, pixels.height, pixels.grey) == (2, 2, True)
    assert pixels.rows[0] == ((0, 0, 0), (128, 128, 128))
    assert pixels.rows[1][1] == (7, 7, 7)


def test_floats_in_unit_range_scale_to_bytes() -> None:
    pixels = to_pixels([[0.0, 0.5, 1.0]])
    assert [p[0] for p in pixels.rows[0]] == [0, 128, 255]


def test_normalised_floats_are_stretched_from_min_to_max() -> None:
    pixels = to_pixels([[-1.0, 0.0, 1.0]])
    assert [p[0] for p in pixels.rows[0]] == [0, 128, 255]


def test_explicit_value_range_is_used_and_clipped() -> None:
    pixels = to_pixels([[-2.0, 0.0, 2.0]], value_range=(-1.0, 1.0))
    assert [p[0] for p in pixels.rows[0]] == [0, 128, 255]
    with pytest.raises(ValueError, match="high above low"):
        to_pixels([[0.0]], value_range=(1.0, 1.0))


def test_chw_tensor_layout_and_hwc_image_layout_agree() -> None:
    hwc = rgb_hwc(5, 4)
    chw = [[[hwc[y][x][c] for x in range(5)] for y in range(4)] for c in range(3)]
    assert to_pixels(hwc) == to_pixels(chw)
    assert to_pixels(chw).rows[2][3] == (30, 20, 128)
    assert to_pixels(chw).grey is False


def test_batch_of_one_grey_tensor_is_squeezed() -> None:
    image = gradient(6, 4)
    assert to_pixels([[image]]) == to_pixels(image)
    assert to_pixels([[image]]).grey is True


def test_objects_with_tolist_are_accepted() -> None:
    assert to_pixels(FakeArray([[1, 200]])).rows[0][1] == (200, 200, 200)


def test_alpha_channel_is_ignored() -> None:
    assert to_pixels([[[10, 20, 30, 0]]], layout="hwc").rows[0][0] == (10, 20, 30)


@pytest.mark.parametrize("bad", [[], [1, 2, 3], "picture", [[[[[1]]], [[[1]]]]]])
def test_bad_images_raise_one_clear_value_error(bad: object) -> None:
    with pytest.raises(ValueError):
        to_pixels(bad)


def test_from_bytes_reads_rows_and_checks_the_length() -> None:
    pixels = from_bytes(bytes([0, 1, 2, 3, 4, 5]), width=3, height=2)
    assert pixels.rows[1] == ((3, 3, 3), (4, 4, 4), (5, 5, 5))
    rgb = from_bytes(bytes([9, 8, 7, 6, 5, 4]), width=2, height=1, channels=3)
    assert rgb.rows[0] == ((9, 8, 7), (6, 5, 4))
    with pytest.raises(ValueError, match="too few"):
        from_bytes(bytes(5), width=3, height=2)


def test_resize_averages_boxes_when_shrinking_and_repeats_when_growing() -> None:
    pixels = to_pixels([[0, 100, 10, 10], [100, 0, 10, 10]])
    small = resize(pixels, 2, 1)
    assert [p[0] for p in small.rows[0]] == [50, 10]
    big = resize(to_pixels([[0, 255]]), 4, 2)
    assert [p[0] for p in big.rows[1]] == [0, 0, 255, 255]


def test_fit_keeps_the_aspect_ratio_and_never_grows_by_default() -> None:
    square = to_pixels(gradient(224, 224))
    fitted = fit(square, 28, 14)
    assert (fitted.width, fitted.height) == (28, 28)
    wide = fit(to_pixels(gradient(100, 50)), 40, 20)
    assert (wide.width, wide.height) == (40, 20)
    tiny = to_pixels(gradient(4, 4))
    assert fit(tiny, 28, 14) is tiny
    assert (fit(tiny, 28, 14, grow=True).width, fit(tiny, 28, 14, grow=True).height) == (28, 28)


# --- half blocks and NO_COLOR -----------------------------------------------------------------


def test_half_blocks_put_two_pixel_rows_in_one_line() -> None:
    image = gradient(6, 4)
    text = render_image(image, color=True)
    assert text.plain.split("\n") == [UPPER_HALF * 6] * 2
    # The first cell shows pixel (0, 0) on top and pixel (0, 1) below.
    style = text.get_style_at_offset(Console(), 0)
    assert style.color is not None and style.bgcolor is not None
    assert style.color.triplet is not None and style.color.triplet.red == image[0][0]
    assert style.bgcolor.triplet is not None and style.bgcolor.triplet.red == image[1][0]


def test_an_odd_last_row_has_no_background() -> None:
    text = render_image(gradient(3, 3), color=True)
    assert len(text.plain.split("\n")) == 2
    last = text.get_style_at_offset(Console(), len(text.plain) - 1)
    assert last.bgcolor is None and last.color is not None


def test_no_color_uses_the_character_ramp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color() is False
    text = render_image([[0, 255], [0, 255]])
    assert text.plain == " @"
    assert not text.spans
    assert use_color(True) is True  # an explicit choice wins over the environment
    monkeypatch.setenv("NO_COLOR", "")
    assert use_color() is True  # an empty NO_COLOR does not count


def test_ramp_runs_from_blank_to_dense() -> None:
    assert ramp_char(0) == RAMP[0] == " "
    assert ramp_char(255) == RAMP[-1]
    levels = [RAMP.index(ramp_char(v)) for v in range(0, 256, 16)]
    assert levels == sorted(levels)


def test_render_image_respects_the_size_limits() -> None:
    text = render_image(gradient(300, 200), max_width=30, max_rows=8, color=False)
    rows = text.plain.split("\n")
    assert len(rows) <= 8 and max(len(row) for row in rows) <= 30


# --- view classify ----------------------------------------------------------------------------


def test_probability_bars_mark_the_top_class_and_scale_the_bars() -> None:
    probabilities = [0.05, 0.8, 0.15]
    text = probability_bars(probabilities, ["cat", "dog", "bird"], width=10, color=False)
    rows = text.plain.split("\n")
    assert rows[0] == "Class probability"
    assert rows[2].startswith(">") and "dog" in rows[2] and rows[2].endswith("80.0%")
    assert rows[1].startswith(" ") and rows[1].endswith("5.0%")
    assert rows[2].count("█") == 8
    assert bar(0.0, 10) == "" and bar(1.0, 10) == "█" * 10
    assert bar(0.0625, 4) == "▎"  # a quarter of a cell: two eighths


def test_probability_bars_accept_a_batch_of_one_and_clip_bad_values() -> None:
    text = probability_bars([[0.2, float("nan"), 1.5]], ["a", "b", "c"], title="", color=False)
    rows = text.plain.split("\n")
    assert len(rows) == 3
    assert rows[1].endswith("0.0%") and rows[2].endswith("100.0%")


def test_probability_bars_need_one_name_per_class() -> None:
    with pytest.raises(ValueError, match="one name per class"):
        probability_bars([0.5, 0.5], ["only one"])


def test_view_classify_fits_80_columns_with_fashion_mnist_names() -> None:
    probabilities = [0.02] * 10
    probabilities[9] = 0.82
    renderable = view_classify(gradient(28, 28), probabilities, FASHION_CLASSES, color=False)
    output = lines(renderable)
    assert max(len(row) for row in output) <= 80
    assert len(output) == 14  # the picture's height; the bars sit beside it
    assert any(re.search(r">\s+Ankle boot", row) and "82.0%" in row for row in output)
    assert all(name in "\n".join(output) for name in FASHION_CLASSES)


def test_view_classify_caption_goes_underneath() -> None:
    output = lines(view_classify(gradient(8, 8), [1.0, 0.0], ["yes", "no"], caption="untrained"))
    assert output[-1].strip() == "untrained"


# --- before / after and rows ------------------------------------------------------------------


def test_before_after_draws_both_at_one_scale_with_their_sizes() -> None:
    before = rgb_hwc(64, 64)
    after = [row[16:48] for row in before[16:48]]
    output = lines(before_after(before, after, transform="CenterCrop(32)", color=False))
    assert "before 64x64" in output[-1] and "after CenterCrop(32) 32x32" in output[-1]
    # Same scale: the crop is half as tall as the original.
    assert len(output) - 1 == 10
    picture_rows = output[:-1]
    assert sum(1 for row in picture_rows if row[-5:].strip()) <= 6


def test_image_row_captions_each_picture() -> None:
    output = lines(image_row([("one", gradient(8, 8)), ("two", gradient(8, 8))], color=False))
    assert "one" in output[-1] and "two" in output[-1]
    with pytest.raises(ValueError):
        image_row([])


# --- bundled samples --------------------------------------------------------------------------


def test_fashion_samples_read_pictures_and_names_without_torch() -> None:
    samples = fashion_samples(3)
    assert len(samples) == 3
    for sample in samples:
        assert (sample.pixels.width, sample.pixels.height) == (28, 28)
        assert sample.name == FASHION_CLASSES[sample.label]
        assert any(value[0] > 0 for row in sample.pixels.rows for value in row)
    assert fashion_samples(2, split="train", start=1)[0] == fashion_samples(2, split="train")[1]


def test_fashion_samples_explain_bad_requests(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="split"):
        fashion_samples(1, split="validation")
    with pytest.raises(FileNotFoundError, match="reinstall"):
        fashion_samples(1, folder=tmp_path)
    assert fashion_samples(5, start=10**9) == []


# --- widgets ----------------------------------------------------------------------------------


def pictures_widgets() -> list[Widget]:
    """Every picture widget, and one given no pixels."""
    return [
        PictureView(gradient(28, 28), caption="a gradient", id="one"),
        ClassifyView(gradient(28, 28), [0.9, 0.1], ["sneaker", "ankle boot"], id="classify"),
        TransformView(rgb_hwc(40, 40), rgb_hwc(20, 20), transform="Resize(20)", id="pair"),
        SampleStrip(2, id="samples"),
        PictureView([], id="broken"),
    ]


async def test_widgets_show_pictures_and_survive_bad_data() -> None:
    app = HostApp(widgets=pictures_widgets)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        one = app.query_one("#one", PictureView)
        assert isinstance(one.content, Text)
        assert UPPER_HALF in one.content.plain and one.content.plain.endswith("a gradient")
        classify = app.query_one("#classify", ClassifyView)
        assert "sneaker" in "\n".join(lines(classify.content))
        samples = "\n".join(lines(app.query_one("#samples", SampleStrip).content))
        assert sum(name in samples for name in FASHION_CLASSES) >= 1
        broken = app.query_one("#broken", PictureView)
        assert isinstance(broken.content, Text)
        assert broken.content.plain.startswith("This picture cannot be shown")
        one.show(Pixels((((1, 2, 3),),)), caption="new")
        assert one.content.plain.endswith("new")
        pair = app.query_one("#pair", TransformView)
        pair.show(gradient(10, 10), gradient(5, 5), "CenterCrop(5)")
        assert "CenterCrop(5)" in "\n".join(lines(pair.content))


async def test_widgets_follow_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = HostApp(widgets=pictures_widgets)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        content = app.query_one("#one", PictureView).content
        assert isinstance(content, Text)
        assert UPPER_HALF not in content.plain
        assert any(char in content.plain for char in RAMP[1:])


# --- pictures that need torch: the producer child and the widgets that run it ------------------


@pytest.mark.slow
def test_producer_makes_transform_pairs_and_an_untrained_guess() -> None:
    from tutor.pictures.produce_process import TRANSFORMS, classify_untrained, transform_pairs

    pairs = transform_pairs(seed=1)
    assert [pair["transform"] for pair in pairs] == [label for label, _, _ in TRANSFORMS]
    sizes = {pair["transform"]: tuple(pair["after_size"]) for pair in pairs}
    assert sizes["Resize(255)"] == (291, 255)  # the shorter side becomes 255
    assert sizes["CenterCrop(224)"] == sizes["RandomResizedCrop(224)"] == (224, 224)
    assert all(tuple(pair["before_size"]) == (320, 280) for pair in pairs)
    before = to_pixels(pairs[0]["before"], layout="hwc")
    assert (before.width, before.height) == (40, 35)  # shrunk by 1/8 for the terminal
    guess = classify_untrained(index=0, seed=0)
    assert len(guess["probabilities"]) == len(guess["class_names"]) == 10
    assert abs(sum(guess["probabilities"]) - 1.0) < 1e-4
    assert guess["label"] in FASHION_CLASSES
    assert to_pixels(guess["image"]).width == 28


CANNED_CLASSIFY = {
    "image": [[0, 255], [255, 0]],
    "probabilities": [0.7, 0.3],
    "class_names": ["sneaker", "ankle boot"],
    "label": "sneaker",
}


def produced_widgets() -> list[Widget]:
    """The widgets whose pictures a child process produces."""
    from tutor.ui.widgets.pictures import TransformGallery, UntrainedClassifyView

    return [UntrainedClassifyView(id="guess"), TransformGallery(id="gallery")]


async def test_produced_pictures_arrive_from_the_child(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from tutor.ui.widgets import pictures

    pair = {
        "transform": "CenterCrop(2)",
        "before": [[[0, 0, 0], [9, 9, 9], [50, 50, 50]]],
        "after": [[[9, 9, 9]]],
        "before_size": [320, 280],
        "after_size": [224, 224],
    }
    canned = {"classify": CANNED_CLASSIFY, "transforms": {"pairs": [pair]}}
    monkeypatch.setattr(
        pictures,
        "produce_command",
        lambda kind: [sys.executable, "-c", f"print({json.dumps(json.dumps(canned[kind]))})"],
    )
    app = HostApp(widgets=produced_widgets)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        guess = "\n".join(lines(app.query_one("#guess", PictureBase).content))
        assert "sneaker" in guess and "70.0%" in guess and "untrained" in guess
        gallery = "\n".join(lines(app.query_one("#gallery", PictureBase).content))
        assert "before 320x280" in gallery and "after CenterCrop(2) 224x224" in gallery


async def test_a_failing_child_gives_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    from tutor.ui.widgets import pictures

    monkeypatch.setattr(
        pictures, "produce_command", lambda kind: [sys.executable, "-c", "raise SystemExit(3)"]
    )
    app = HostApp(widgets=produced_widgets)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        content = app.query_one("#guess", PictureBase).content
        assert isinstance(content, Text)
        assert content.plain.startswith("The pictures cannot be drawn")


# --- "view classify" of a trained network: the newest finished run's checkpoint ----------------


def _fake_run(model: str, state: str, favourite: int, *, damaged: bool = False) -> Path:
    """A run folder in the trainer's layout whose checkpoint makes the net always say ``favourite``.

    Every weight is zero and the last layer's bias favours one class, so the probabilities show
    whether these weights were loaded (an untrained net says about 10 % for every class).
    """
    import json

    import torch

    from tutor.training.checkpoint import FORMAT, save_checkpoint
    from tutor.training.config import TrainConfig
    from tutor.training.models import build_model
    from tutor.training.runs import checkpoint_path, create_run

    made = create_run(TrainConfig(model=model, dataset="fashion-mnist", epochs=1))
    # Run ids sort by their time stamp: number them so each new run is the newest.
    folder = made.with_name(f"20260101-{len(list(made.parent.iterdir())):06d}-{model}-0000")
    made.rename(folder)
    net = build_model(model)
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.zero_()
        last = [m for m in net.modules() if isinstance(m, torch.nn.Linear)][-1]
        last.bias[favourite] = 20.0
    config = json.loads((folder / "config.json").read_text())
    checkpoint = checkpoint_path(folder)
    if damaged:
        checkpoint.write_bytes(b"not a checkpoint")
    else:
        save_checkpoint(
            checkpoint,
            {
                "format": FORMAT,
                "model": net.state_dict(),
                "optimizer": {},
                "epoch": 1,
                "step_in_epoch": 0,
                "step": 10,
                "config": config,
                "classes": list(FASHION_CLASSES),
            },
        )
    (folder / "metrics.jsonl").write_text(json.dumps({"event": "epoch", "epoch": 1}) + "\n")
    (folder / "state.json").write_text(json.dumps({"state": state, "message": ""}))
    return folder


@pytest.mark.slow
def test_trained_classify_falls_back_to_the_untrained_view_with_advice() -> None:
    from tutor.pictures.produce_process import (
        NO_TRAINED_CAPTION,
        classify_trained,
        classify_untrained,
    )

    guess = classify_trained(index=0, seed=0)
    assert "error" not in guess
    assert guess["trained"] is False and guess["run"] is None
    assert guess["caption"] == NO_TRAINED_CAPTION
    assert (
        "[[@fashion-mnist.train]]" in guess["caption"]
        and "pytorch-tutor train mlp" in guess["caption"]
    )
    untrained = classify_untrained(index=0, seed=0)
    assert guess["probabilities"] == untrained["probabilities"]
    assert guess["image"] == untrained["image"] and guess["label"] == untrained["label"]


@pytest.mark.slow
def test_trained_classify_reads_the_newest_finished_classifier_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from tutor.pictures.produce_process import classify_trained, main

    wanted = _fake_run("mlp", "done", favourite=3)  # Dress
    _fake_run("mlp-dropout", "failed", favourite=5)  # newer but unfinished: ignored
    _fake_run("mnist-mlp", "done", favourite=7)  # another data set's network: ignored
    _fake_run("mlp-dropout", "done", favourite=1, damaged=True)  # unreadable: the next is used
    guess = classify_trained(index=2)
    assert guess["trained"] is True and guess["run"] == wanted.name
    probabilities = guess["probabilities"]
    assert len(probabilities) == len(guess["class_names"]) == 10
    assert probabilities[3] > 0.99 and abs(sum(probabilities) - 1.0) < 1e-4
    assert guess["class_names"] == list(FASHION_CLASSES)
    assert guess["label"] in FASHION_CLASSES and to_pixels(guess["image"]).width == 28
    assert wanted.name in guess["caption"] and "mlp" in guess["caption"]
    # A newer good mlp-dropout run takes over; its dropout is off (eval mode), so it is exact.
    newer = _fake_run("mlp-dropout", "done", favourite=8)
    assert main(["classify-trained", "--index", "2"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["run"] == newer.name and data["probabilities"][8] > 0.99


def trained_widgets() -> list[Widget]:
    """The classifier view of the last trained model."""
    from tutor.ui.widgets.pictures import TrainedClassifyView

    return [TrainedClassifyView(id="trained")]


async def test_trained_view_shows_the_caption_with_links_as_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json

    from tutor.pictures.produce_process import NO_TRAINED_CAPTION
    from tutor.ui.screens.reader import picture_view
    from tutor.ui.widgets import pictures

    assert isinstance(picture_view("classify-trained"), pictures.TrainedClassifyView)
    canned = {**CANNED_CLASSIFY, "trained": False, "run": None, "caption": NO_TRAINED_CAPTION}
    kinds: list[str] = []

    def command(kind: str) -> list[str]:
        kinds.append(kind)
        return [sys.executable, "-c", f"print({json.dumps(json.dumps(canned))})"]

    monkeypatch.setattr(pictures, "produce_command", command)
    app = HostApp(widgets=trained_widgets)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = "\n".join(lines(app.query_one("#trained", PictureBase).content))
    assert kinds == ["classify-trained"]
    assert "sneaker" in shown and "70.0%" in shown
    assert "no trained model yet" in shown and "[[" not in shown
    # The caption wraps at 80 columns rather than losing its end.
    words = " ".join(shown.split())
    assert "fashion-mnist.train (or `pytorch-tutor train mlp`)" in words
