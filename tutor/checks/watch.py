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
        before, after = self.__dict__.get(_MARK, ([], []))
        for watcher in list(before):
            watcher(self, args)
        output = original(*args, **kwargs)
        for watcher in list(after):
            watcher(self, args, output)
        return output

    return forward


def watch_forward(
    module: Any,
    callback: Callable[[Any, tuple[Any, ...]], None] | None = None,
    after: Callable[[Any, tuple[Any, ...], Any], None] | None = None,
) -> Any:
    """Call ``callback(module, args)`` before, and ``after(module, args, output)`` after, every
    forward pass of ``module``; returns the module."""
    watchers: tuple[list[Any], list[Any]] | None = module.__dict__.get(_MARK)
    if watchers is None:
        watchers = ([], [])
        # An instance attribute: nn.Module.__call__ looks up self.forward, so it finds this too.
        object.__setattr__(module, "forward", _wrap(module, module.forward))
        object.__setattr__(module, _MARK, watchers)
    if callback is not None:
        watchers[0].append(callback)
    if after is not None:
        watchers[1].append(after)
    return module
