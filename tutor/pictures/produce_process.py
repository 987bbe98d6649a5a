"""Pictures that need torch, made in a child process: ``python -m tutor.pictures.produce_process KIND``.

The UI never imports torch, so a widget runs this module as a subprocess and reads one JSON
object from its stdout. Kinds:

* ``transforms``: one picture before and after each transform of the image-data lesson
  (``{"pairs": [{"transform", "before", "after"}, ...]}``, pixels as nested ``[H][W][3]`` lists)
* ``classify``: a Fashion-MNIST sample and the class probabilities of an untrained copy of the
  course's network (``{"image", "probabilities", "class_names", "label"}``)
* ``classify-trained``: the same for the newest finished ``mlp`` or ``mlp-dropout`` run on
  Fashion-MNIST, read from its checkpoint; adds ``trained``, ``caption`` and ``run``. Without such
  a run it gives the untrained view with a caption saying how to train one (never an error).

torch and torchvision are imported inside the functions only.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tutor.pictures.pixels import Pixels

# The transforms of the image-data lesson, as (label, factory name, arguments).
TRANSFORMS: tuple[tuple[str, str, tuple[Any, ...]], ...] = (
    ("Resize(255)", "Resize", (255,)),
    ("CenterCrop(224)", "CenterCrop", (224,)),
    ("RandomRotation(30)", "RandomRotation", (30,)),
    ("RandomResizedCrop(224)", "RandomResizedCrop", (224,)),
    ("RandomHorizontalFlip(p=1)", "RandomHorizontalFlip", (1.0,)),
)


def example_image() -> Any:
    """The image-data lesson's 320 x 280 picture: shapes off the centre, so crops and flips show."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 280), (40, 90, 160))
    draw = ImageDraw.Draw(image)
    draw.ellipse((60, 50, 220, 210), fill=(230, 180, 60))
    draw.rectangle((200, 150, 300, 260), fill=(200, 40, 60))
    draw.polygon([(10, 270), (60, 200), (110, 270)], fill=(60, 200, 90))
    return image


def _rows(image: Any) -> list[list[list[int]]]:
    """A PIL image as nested [H][W][3] lists."""
    rgb = image.convert("RGB")
    data = rgb.tobytes()
    width, height = rgb.size
    return [
        [list(data[(y * width + x) * 3 : (y * width + x) * 3 + 3]) for x in range(width)]
        for y in range(height)
    ]


def _shrunk(image: Any, factor: float) -> list[list[list[int]]]:
    """The image scaled by ``factor`` (a terminal shows about 40 pixels across anyway)."""
    width, height = image.size
    small = image.resize((max(1, round(width * factor)), max(1, round(height * factor))))
    return _rows(small)


def transform_pairs(seed: int = 0, factor: float = 0.125) -> list[dict[str, Any]]:
    """The example picture before and after each transform, each applied to the original.

    Both pictures of a pair are shrunk by the same ``factor`` so their sizes stay comparable;
    ``before_size`` and ``after_size`` keep the real sizes for the captions.
    """
    import torch
    from torchvision import transforms

    torch.manual_seed(seed)
    image = example_image()
    before = _shrunk(image, factor)
    pairs = []
    for label, name, args in TRANSFORMS:
        after = getattr(transforms, name)(*args)(image)
        pairs.append(
            {
                "transform": label,
                "before": before,
                "after": _shrunk(after, factor),
                "before_size": list(image.size),
                "after_size": list(after.size),
            }
        )
    return pairs


def classify_untrained(index: int = 0, seed: int = 0) -> dict[str, Any]:
    """A sample picture and what an untrained 784-256-128-64-10 network makes of it."""
    import torch

    from tutor.pictures.samples import fashion_samples
    from tutor.training.data import FASHION_CLASSES
    from tutor.training.models import build_model

    samples = fashion_samples(1, start=index)
    if not samples:
        raise ValueError(f"The sample has no picture number {index}.")
    sample = samples[0]
    torch.manual_seed(seed)
    model = build_model("mlp")  # the course's 784-256-128-64-10 network, as lessons train it
    grey = [[pixel[0] for pixel in row] for row in sample.pixels.rows]
    # The course's Normalize((0.5,), (0.5,)): bytes to [-1, 1].
    x = (torch.tensor(grey, dtype=torch.float32) / 255 - 0.5) / 0.5
    with torch.no_grad():
        probabilities = torch.exp(model(x.view(1, 784)))[0].tolist()
    return {
        "image": grey,
        "probabilities": probabilities,
        "class_names": list(FASHION_CLASSES),
        "label": sample.name,
    }


# The runs whose checkpoint holds the Fashion-MNIST classifier the predict page talks about.
TRAINED_MODELS = ("mlp", "mlp-dropout")
NO_TRAINED_CAPTION = (
    "no trained model yet: train it in [[@fashion-mnist.train]] (or `pytorch-tutor train mlp`)"
)


def _trained_runs() -> list[Any]:
    """Finished Fashion-MNIST runs of the course's classifier that have a checkpoint, newest first."""
    from tutor.training.runs import list_runs

    return [
        run
        for run in list_runs()
        if run.state == "done"
        and run.config.model in TRAINED_MODELS
        and run.config.dataset == "fashion-mnist"
        and run.checkpoint.is_file()
    ]


def _load_trained(run: Any) -> tuple[Any, list[str]] | None:
    """The run's model with its checkpoint's weights, in eval mode, and its class names.

    None when the checkpoint cannot be used (damaged, or weights of another shape), so an older
    run gets its turn.
    """
    from tutor.training.checkpoint import CheckpointError, load_checkpoint
    from tutor.training.data import FASHION_CLASSES
    from tutor.training.models import build_model

    try:
        # torch.load(weights_only=True) onto the CPU: a checkpoint holds tensors, never code.
        state = load_checkpoint(run.checkpoint)
        classes = [str(name) for name in state.get("classes") or FASHION_CLASSES]
        model = build_model(run.config.model, classes=len(classes))
        model.load_state_dict(state["model"])
    except (CheckpointError, RuntimeError, KeyError, TypeError, ValueError):
        return None
    model.eval()  # dropout off: the prediction of the trained network, not of a noisy copy
    return model, classes


def classify_trained(index: int = 0, seed: int = 0) -> dict[str, Any]:
    """A sample picture and the newest trained classifier's probabilities for it.

    Falls back to ``classify_untrained`` with a caption saying how to train one.
    """
    import torch

    from tutor.pictures.samples import fashion_samples

    samples = fashion_samples(1, start=index)
    if not samples:
        raise ValueError(f"The sample has no picture number {index}.")
    sample = samples[0]
    for run in _trained_runs():
        loaded = _load_trained(run)
        if loaded is None:
            continue
        model, classes = loaded
        grey = [[pixel[0] for pixel in row] for row in sample.pixels.rows]
        # The training runs' normalisation: bytes to [-1, 1], as Normalize((0.5,), (0.5,)).
        x = (torch.tensor(grey, dtype=torch.float32) / 255 - 0.5) / 0.5
        with torch.no_grad():
            probabilities = torch.exp(model(x.view(1, 1, 28, 28)))[0].tolist()
        epochs = f", {run.epoch} epoch{'s' if run.epoch != 1 else ''}" if run.epoch else ""
        return {
            "image": grey,
            "probabilities": probabilities,
            "class_names": classes,
            "label": sample.name,
            "trained": True,
            "run": run.id,
            "caption": (
                f"The trained {run.config.model} (run {run.id}{epochs}) looking at a test "
                f"picture of class {sample.name}."
            ),
        }
    result = classify_untrained(index, seed)
    result.update(trained=False, run=None, caption=NO_TRAINED_CAPTION)
    return result


def pixels_of(rows: list[Any]) -> Pixels:
    """Pixels from the JSON of this module (for the parent)."""
    from tutor.pictures.pixels import to_pixels

    return to_pixels(rows, layout="hwc" if rows and isinstance(rows[0][0], list) else "auto")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tutor.pictures.produce_process")
    parser.add_argument("kind", choices=("transforms", "classify", "classify-trained"))
    parser.add_argument("--index", type=int, default=0, help="which sample picture (classify)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        if args.kind == "transforms":
            result: dict[str, Any] = {"pairs": transform_pairs(args.seed)}
        elif args.kind == "classify-trained":
            result = classify_trained(args.index, args.seed)
        else:
            result = classify_untrained(args.index, args.seed)
    except (ImportError, OSError, ValueError) as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return 1
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
