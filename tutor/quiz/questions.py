"""Questions in three modes: term to definition (choice), definition to term (typed) and code to
concept (choice among term names, or the name typed).

Definitions shown to the learner have the term's own names masked, so a definition never gives
its term away.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Literal

from tutor.lessons.links import plain
from tutor.lessons.model import Glossary, Term
from tutor.quiz.matching import normalize

Mode = Literal["choice", "typed", "code"]
MODES: tuple[Mode, ...] = ("choice", "typed", "code")
CHOICES = 4


def parse_mode(value: str | None, default: Mode = "choice") -> Mode:
    """``value`` as a mode, or ``default`` when it names none (an old or edited setting)."""
    for mode in MODES:
        if value == mode:
            return mode
    return default


MASK = "____"


@dataclass(frozen=True)
class Question:
    """One question about ``term``. ``choices`` is empty for typed questions; ``choice_terms``
    says which term each choice stands for, and ``answer_index`` which choice is right."""

    mode: Mode
    term: Term
    prompt: str
    snippet: str = ""
    choices: tuple[str, ...] = ()
    choice_terms: tuple[Term, ...] = ()
    answer_index: int = -1

    @property
    def accepts_text(self) -> bool:
        """True when a typed name is an answer (typed and code questions)."""
        return self.mode in ("typed", "code")


def _mask_names(term: Term) -> list[str]:
    """The names to hide in a term's definition: its names, the parts of a parenthesised name,
    and an API entry's last dotted part."""
    names: set[str] = set()
    for name in term.names:
        names.add(name)
        if "(" in name and name.endswith(")"):
            outside, _, inside = name[:-1].partition("(")
            names.update({outside.strip(), inside.strip()})
        if term.kind == "api" and "." in name:
            names.add(name.rsplit(".", 1)[-1])
    return [n for n in names if len(n) > 1]


def masked_definition(term: Term, also: tuple[Term, ...] = ()) -> str:
    """The definition as plain text with every name (and plural) of the term replaced; names of the
    terms in ``also`` too, so that in a choice question a mask does not single out the answer."""
    text = plain(term.definition).strip()
    names = {name for t in (term, *also) for name in _mask_names(t)}
    for name in sorted(names, key=len, reverse=True):
        pattern = rf"(?<!\w){re.escape(name)}(?:e?s)?(?!\w)"
        text = re.sub(pattern, MASK, text, flags=re.IGNORECASE)
    return text


def distractors(
    term: Term, glossary: Glossary, count: int, rng: random.Random, *, by: str
) -> list[Term]:
    """Up to ``count`` other terms to offer as wrong choices: related terms first, then terms of
    the same kind, then any. ``by`` ("definition" or "name") is what must differ between choices,
    so the right answer never shows twice."""
    related = [t for name in term.related if (t := glossary.lookup(name)) is not None]
    same_kind = [t for t in glossary.terms if t.kind == term.kind]
    others = [t for t in glossary.terms if t.kind != term.kind]
    rng.shuffle(related)
    rng.shuffle(same_kind)
    rng.shuffle(others)

    def shown(t: Term) -> str:
        return normalize(masked_definition(t) if by == "definition" else t.term)

    seen_ids = {term.id}
    seen_text = {shown(term)}
    picked: list[Term] = []
    for candidate in [*related, *same_kind, *others]:
        if len(picked) == count:
            break
        text = shown(candidate)
        if candidate.id in seen_ids or text in seen_text:
            continue
        seen_ids.add(candidate.id)
        seen_text.add(text)
        picked.append(candidate)
    return picked


def _with_choices(term: Term, options: list[Term], rng: random.Random) -> tuple[list[Term], int]:
    order = [term, *options]
    rng.shuffle(order)
    return order, next(i for i, t in enumerate(order) if t.id == term.id)


def build_question(term: Term, glossary: Glossary, mode: Mode, rng: random.Random) -> Question:
    """A question of ``mode`` about ``term``; code questions need the term's ``example``."""
    if mode == "typed":
        return Question(
            mode="typed",
            term=term,
            prompt=f"Which term is this?\n\n{masked_definition(term)}",
        )
    if mode == "code":
        if not term.example.strip():
            raise ValueError(f"term {term.term!r} has no example to ask about")
        order, index = _with_choices(
            term, distractors(term, glossary, CHOICES - 1, rng, by="name"), rng
        )
        return Question(
            mode="code",
            term=term,
            prompt="Which concept does this code show? Pick a number or type its name.",
            snippet=term.example.strip("\n"),
            choices=tuple(t.term for t in order),
            choice_terms=tuple(order),
            answer_index=index,
        )
    order, index = _with_choices(
        term, distractors(term, glossary, CHOICES - 1, rng, by="definition"), rng
    )
    return Question(
        mode="choice",
        term=term,
        prompt=f"What does “{term.term}” mean?",
        choices=tuple(masked_definition(t, tuple(order)) for t in order),
        choice_terms=tuple(order),
        answer_index=index,
    )


def typed_hint(term: Term) -> str:
    """The shape of the term: each word's first letter, the rest as underscores."""
    return re.sub(r"[^\W_]+", lambda m: m.group()[0] + "_" * (len(m.group()) - 1), term.term)


def choices_to_hide(question: Question, rng: random.Random) -> set[int]:
    """A choice hint: two wrong choices to hide (one when only three are shown)."""
    wrong = [i for i in range(len(question.choices)) if i != question.answer_index]
    rng.shuffle(wrong)
    return set(wrong[: max(0, len(wrong) - 1)][:2])
