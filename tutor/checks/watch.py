"""Watching a module's forward passes, whichever way the learner calls it.

A forward pre-hook sees ``model(x)`` but not ``model.forward(x)``, a spelling learners copy from
the course. ``watch_forward`` wraps the module's ``forward`` instead: ``nn.Module.__call__``
calls ``self.forward`` too, so both spellings reach the callback exactly once. Lesson setups use
it to note the mode (train/eval) and whether gradients were on in each pass.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

_MARK = "_tutor_forward_watchers"


def _wrap(self: Any, original: Callable[..., Any]) -> Callable[..., Any]:
    """The replacement ``forward``; named so, with ``self`` in scope, so the call recorder
    notes a direct ``model.forward(x)`` as a call of this module."""

    @functools.wraps(original)
    def forward(*args: Any, **kwargs: Any) -> Any:
        for watcher in list(self.__dict__.get(_MARK, [])):
            watcher(self, args)
        return original(*args, **kwargs)

    return forward


def watch_forward(module: Any, callback: Callable[[Any, tuple[Any, ...]], None]) -> Any:
    """Call ``callback(module, args)`` before every forward pass of ``module``; returns it."""
    watchers: list[Callable[[Any, tuple[Any, ...]], None]] | None = module.__dict__.get(_MARK)
    if watchers is None:
        watchers = []
        # An instance attribute: nn.Module.__call__ looks up self.forward, so it finds this too.
        object.__setattr__(module, "forward", _wrap(module, module.forward))
        object.__setattr__(module, _MARK, watchers)
    watchers.append(callback)
    return module
