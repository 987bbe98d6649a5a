"""Widgets that show pictures: one image, "view classify", before/after a transform, samples.

They wrap the pure renderers of ``tutor.pictures``. Pictures that need torch (transforms, an
untrained or a trained network's guess) come from ``python -m tutor.pictures.produce_process`` run in a
thread worker. Colour or the character ramp is chosen each time they draw, so NO_COLOR takes
effect without a restart. Bad image data never raises into the app: the widget shows one
sentence saying what was wrong instead.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual import work
from textual.widgets import Static
from textual.worker import get_current_worker

from tutor.pictures import before_after, image_row, render_image, view_classify
from tutor.pictures.produce_process import pixels_of


class PictureBase(Static):
    """A Static whose content is rebuilt from stored picture data by ``_build``."""

    DEFAULT_CSS = """
    PictureBase {
        width: auto;
        height: auto;
    }
    """

    def _build(self) -> RenderableType | None:
        return None

    def refresh_picture(self) -> None:
        """Redraw from the stored data; a problem with the data becomes a one-line notice."""
        try:
            content = self._build()
        except (ValueError, TypeError, IndexError) as exc:
            content = Text(f"This picture cannot be shown: {exc}", style="italic")
        self.update(content if content is not None else "")

    def on_mount(self) -> None:
        self.refresh_picture()


class PictureView(PictureBase):
    """One image in half-block cells, with an optional caption underneath."""

    def __init__(
        self,
        image: Any = None,
        *,
        caption: str = "",
        max_width: int = 28,
        max_rows: int = 14,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.image = image
        self.caption = caption
        self.max_width = max_width
        self.max_rows = max_rows

    def show(self, image: Any, caption: str = "") -> None:
        """Replace the image (anything ``tutor.pictures.to_pixels`` accepts)."""
        self.image, self.caption = image, caption
        self.refresh_picture()

    def _build(self) -> RenderableType | None:
        if self.image is None:
            return None
        text = render_image(self.image, max_width=self.max_width, max_rows=self.max_rows)
        if self.caption:
            text.append("\n" + self.caption, style="bold")
        return text


class ClassifyView(PictureBase):
    """The course's "view classify": an image beside the bars of its class probabilities."""

    def __init__(
        self,
        image: Any = None,
        probabilities: Any = None,
        class_names: Sequence[str] = (),
        *,
        caption: str = "",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.image = image
        self.probabilities = probabilities
        self.class_names = tuple(class_names)
        self.caption = caption

    def show(
        self, image: Any, probabilities: Any, class_names: Sequence[str], caption: str = ""
    ) -> None:
        """Show a new image with its probabilities (one per class name)."""
        self.image, self.probabilities = image, probabilities
        self.class_names, self.caption = tuple(class_names), caption
        self.refresh_picture()

    def _build(self) -> RenderableType | None:
        if self.image is None or self.probabilities is None:
            return None
        return view_classify(self.image, self.probabilities, self.class_names, caption=self.caption)


class TransformView(PictureBase):
    """One image before and after a transform, drawn at the same scale."""

    def __init__(
        self,
        before: Any = None,
        after: Any = None,
        *,
        transform: str = "",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.before = before
        self.after = after
        self.transform = transform

    def show(self, before: Any, after: Any, transform: str = "") -> None:
        """Show a new pair: the original and its transformed version."""
        self.before, self.after, self.transform = before, after, transform
        self.refresh_picture()

    def _build(self) -> RenderableType | None:
        if self.before is None or self.after is None:
            return None
        return before_after(self.before, self.after, transform=self.transform)


class SampleStrip(PictureBase):
    """A row of Fashion-MNIST pictures from the bundled sample, each captioned with its class.

    Reading them needs no torch: a few kilobytes of the sample's gzipped IDX file.
    """

    def __init__(
        self,
        count: int = 4,
        *,
        split: str = "test",
        start: int = 0,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.count = count
        self.split = split
        self.start = start

    def _build(self) -> RenderableType | None:
        from tutor.pictures.samples import fashion_samples

        try:
            samples = fashion_samples(self.count, split=self.split, start=self.start)
        except (OSError, EOFError) as exc:
            return Text(f"The sample pictures cannot be read: {exc}", style="italic")
        if not samples:
            return Text("The sample has no pictures at that position.", style="italic")
        return image_row([(sample.name, sample.pixels) for sample in samples], max_rows=14)


def produce_command(kind: str) -> list[str]:
    """The child process that makes torch-dependent pictures (the UI never imports torch)."""
    return [sys.executable, "-m", "tutor.pictures.produce_process", kind]


def run_producer(kind: str, timeout: float = 180.0) -> dict[str, Any]:
    """Run the producer and parse its JSON; failures become ``{"error": sentence}``."""
    try:
        done = subprocess.run(
            produce_command(kind),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"error": f"the picture process did not finish ({type(exc).__name__})"}
    try:
        data = json.loads(done.stdout or "{}")
    except json.JSONDecodeError:
        return {"error": "the picture process gave no readable answer"}
    if not isinstance(data, dict):
        return {"error": "the picture process gave no readable answer"}
    if done.returncode != 0 and "error" not in data:
        data["error"] = f"the picture process failed (exit {done.returncode})"
    return data


class _Produced(PictureBase):
    """A picture made by the producer child in a thread worker, with a notice until it arrives."""

    KIND = ""
    WAITING = "Drawing…"

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.data: dict[str, Any] | None = None

    def on_mount(self) -> None:
        self.update(Text(self.WAITING, style="italic"))
        self._produce()

    @work(thread=True, exclusive=True, group="pictures", exit_on_error=False)
    def _produce(self) -> None:
        data = run_producer(self.KIND)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._arrived, data)

    def _arrived(self, data: dict[str, Any]) -> None:
        self.data = data
        self.refresh_picture()

    def _build(self) -> RenderableType | None:
        if self.data is None:
            return Text(self.WAITING, style="italic")
        if "error" in self.data:
            return Text(f"The pictures cannot be drawn: {self.data['error']}.", style="italic")
        return self._from_data(self.data)

    def _from_data(self, data: dict[str, Any]) -> RenderableType:
        raise NotImplementedError


class TransformGallery(_Produced):
    """The image-data lesson's picture before and after each of its transforms."""

    KIND = "transforms"
    WAITING = "Applying the transforms…"

    def _from_data(self, data: dict[str, Any]) -> RenderableType:
        parts: list[RenderableType] = []
        for pair in data["pairs"]:
            before_size, after_size = pair["before_size"], pair["after_size"]
            parts.append(
                before_after(
                    pixels_of(pair["before"]),
                    pixels_of(pair["after"]),
                    transform=pair["transform"],
                    sizes=((before_size[0], before_size[1]), (after_size[0], after_size[1])),
                )
            )
            parts.append(Text(""))
        return Group(*parts)


class UntrainedClassifyView(_Produced):
    """ "View classify" for an untrained network: about 10 % for every class, as the course shows."""

    KIND = "classify"
    WAITING = "Asking an untrained network…"

    def _from_data(self, data: dict[str, Any]) -> RenderableType:
        return view_classify(
            data["image"],
            data["probabilities"],
            data["class_names"],
            caption=f"An untrained network looking at a {data['label']}: a guess.",
        )


class TrainedClassifyView(_Produced):
    """ "View classify" for the newest trained classifier, read from its run's checkpoint.

    Without a finished run it shows the untrained network's guess and says how to train one.
    """

    KIND = "classify-trained"
    WAITING = "Asking the trained network…"

    def _from_data(self, data: dict[str, Any]) -> RenderableType:
        from tutor.lessons.links import plain

        caption = str(data.get("caption") or f"A network looking at a {data['label']}.")
        return view_classify(
            data["image"],
            data["probabilities"],
            data["class_names"],
            # A step link in the caption reads as its words here: the picture is not clickable.
            caption=plain(caption),
        )
