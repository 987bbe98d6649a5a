"""Pictures in the terminal: images as half-block cells, "view classify", transforms side by side.

Everything here is a pure function from plain data (nested lists, bytes, or anything with a
``tolist()`` method such as a NumPy array or a CPU tensor) to a Rich renderable. Nothing imports
torch or Textual, so the UI process and the headless CLI can both use it.
"""

from tutor.pictures.classify import probability_bars, view_classify
from tutor.pictures.gallery import before_after, image_row
from tutor.pictures.halfblock import render_image, use_color
from tutor.pictures.pixels import Pixels, fit, resize, to_pixels

__all__ = [
    "Pixels",
    "before_after",
    "fit",
    "image_row",
    "probability_bars",
    "render_image",
    "resize",
    "to_pixels",
    "use_color",
    "view_classify",
]
