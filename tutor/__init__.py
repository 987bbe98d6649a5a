"""pytorch-tutor: a terminal tutor for the course "Introduction to PyTorch".

The package is split by concern. Domain packages (``lessons``, ``store``, ``kernel``, ``checks``,
``training``, ``devices``, ``quiz``) import neither Textual nor torch at module import; ``ui`` is the
Textual app on top of them and ``cli`` the headless command line that shares the same domain code.
"""

__version__ = "0.1.0"
