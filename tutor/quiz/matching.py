"""Checking a typed term: forgiving of case, spacing, hyphens, plurals and small typos, never of
naming a different term.

An answer is compared with every spelling of every glossary term. It is accepted when its nearest
match within the typo allowance is the asked term; an answer that is as close or closer to another
term is rejected, so ``torch.mm`` never passes for ``torch.sum``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from tutor.lessons.model import Glossary, Term


def normalize(text: str) -> str:
    """Fold ``text`` to a compact key: NFKC, no accents or invisible characters, case-folded,
    letters and digits only (so spaces, hyphens, dots and underscores do not matter)."""
    text = unicodedata.normalize("NFKC", text)
    # Decompose to drop accents (tensör -> tensor); Cc/Cf removes zero-width and control characters.
    decomposed = unicodedata.normalize("NFKD", text)
    kept = (ch for ch in decomposed if unicodedata.category(ch) not in ("Mn", "Cc", "Cf"))
    return "".join(ch for ch in "".join(kept).casefold() if ch.isalnum())


def spellings(term: Term) -> tuple[str, ...]:
    """Every accepted spelling of a term, normalized: the term, its aliases, the parts of a name
    with a parenthesis (``stochastic gradient descent (SGD)``), and for API entries the last dotted
    part and the ``torch.``-prefixed name."""
    names: list[str] = []
    for name in term.names:
        names.append(name)
        if "(" in name and name.endswith(")"):
            outside, _, inside = name[:-1].partition("(")
            names.extend([outside, inside])
        if term.kind == "api":
            base = name.split("(")[0].strip()
            names.append(base.rsplit(".", 1)[-1])
            if not base.lower().startswith("torch."):
                names.append(f"torch.{base}")
    keys = (normalize(n) for n in names)
    return tuple(dict.fromkeys(k for k in keys if k))


def singular_forms(key: str) -> set[str]:
    """``key`` and the forms a plural ending could hide (networks, batches, activities)."""
    forms = {key}
    if len(key) > 3 and key.endswith("s") and not key.endswith("ss"):
        forms.add(key[:-1])
    if len(key) > 4 and key.endswith("es"):
        forms.add(key[:-2])
    if len(key) > 4 and key.endswith("ies"):
        forms.add(key[:-3] + "y")
    return forms


def allowance(length: int) -> int:
    """How many typos a spelling of this many characters tolerates; short names need it exact."""
    if length <= 4:
        return 0
    if length <= 8:
        return 1
    if length <= 15:
        return 2
    return 3


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (a swap of neighbours counts once), or ``limit + 1`` as
    soon as it is certain to exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def closeness(answer_key: str, term: Term) -> int | None:
    """The fewest typos between the answer and any spelling of ``term``, or None beyond allowance."""
    best: int | None = None
    for spelling in spellings(term):
        for said in singular_forms(answer_key):
            for meant in singular_forms(spelling):
                limit = allowance(len(meant))
                distance = edit_distance(said, meant, limit)
                if distance <= limit and (best is None or distance < best):
                    best = distance
    return best


@dataclass(frozen=True)
class Verdict:
    """The result of checking a typed answer: accepted or not, exact or with typos, and the term
    the answer names instead when it names another one."""

    accepted: bool
    typos: int = 0
    other: Term | None = None


def check_typed(answer: str, target: Term, glossary: Glossary) -> Verdict:
    """Accept ``answer`` for ``target`` when its closest term is ``target`` and no other term is as
    close (an exact hit on another term's name is never accepted)."""
    key = normalize(answer)
    if not key:
        return Verdict(False)
    own = closeness(key, target)
    rival: Term | None = None
    rival_distance: int | None = None
    for term in glossary.terms:
        if term.id == target.id:
            continue
        distance = closeness(key, term)
        if distance is not None and (rival_distance is None or distance < rival_distance):
            rival, rival_distance = term, distance
    if own is None:
        return Verdict(False, other=rival)
    if rival_distance is not None and (rival_distance < own or (rival_distance == own and own > 0)):
        return Verdict(False, other=rival)
    return Verdict(True, typos=own)
