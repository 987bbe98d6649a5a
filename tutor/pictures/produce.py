"""Pictures that need torch, made in a child process: ``python -m tutor.pictures.produce KIND``.

The UI never imports torch, so a widget runs this module as a subprocess and reads one JSON
object from its stdout. Kinds:

* ``transforms``: one picture before and after each transform of the image-data lesson
  (``{"pairs": [{"transform", "before", "after"}, ...]}``, pixels as nested ``[H][W][3]`` lists)
* ``classify``: a Fashion-MNIST sample and the class probabilities of an untrained copy of the
  course's network (``{"image", "probabilities", "class_names", "label"}``)

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
    from torch import nn

    from tutor.pictures.samples import fashion_samples
    from tutor.training.data import FASHION_CLASSES

    samples = fashion_samples(1, start=index)
    if not samples:
        raise ValueError(f"The sample has no picture number {index}.")
    sample = samples[0]
    torch.manual_seed(seed)
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


def pixels_of(rows: list[Any]) -> Pixels:
    """Pixels from the JSON of this module (for the parent)."""
    from tutor.pictures.pixels import to_pixels

    return to_pixels(rows, layout="hwc" if rows and isinstance(rows[0][0], list) else "auto")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tutor.pictures.produce")
    parser.add_argument("kind", choices=("transforms", "classify"))
    parser.add_argument("--index", type=int, default=0, help="which sample picture (classify)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        if args.kind == "transforms":
            result: dict[str, Any] = {"pairs": transform_pairs(args.seed)}
        else:
            result = classify_untrained(args.index, args.seed)
    except (ImportError, OSError, ValueError) as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return 1
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
