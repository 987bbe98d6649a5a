"""The quiz in a plain terminal: questions on stdout, answers line by line from stdin.

Scriptable: a number picks a choice, any other text is a typed answer, ``?`` asks for a hint and
``:q`` (or the end of input) ends the session with a summary.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import TextIO

from tutor.quiz.session import Feedback, InvalidAnswer, QuizSession, Summary

WIDTH = 78
QUIT = {":q", ":quit", ":exit"}


def _say(out: TextIO, text: str = "", indent: str = "") -> None:
    for paragraph in text.split("\n"):
        wrapped = textwrap.fill(
            paragraph,
            WIDTH,
            initial_indent=indent,
            subsequent_indent=indent + ("   " if indent else ""),
        )
        print(wrapped if paragraph.strip() else "", file=out)
    out.flush()


def _show_question(session: QuizSession, out: TextIO) -> None:
    question = session.question
    assert question is not None
    _say(out)
    _say(out, f"[{session.position}] {question.prompt}")
    if question.snippet:
        _say(out)
        for line in question.snippet.splitlines():
            print(f"    {line}", file=out)
        _say(out)
    _show_choices(session, out)


def _show_choices(session: QuizSession, out: TextIO) -> None:
    question = session.question
    assert question is not None
    for index, choice in enumerate(question.choices):
        if index not in session.hidden:
            _say(out, f"{index + 1}. {choice}", indent="  ")


def _show_feedback(feedback: Feedback, out: TextIO, title: Callable[[str], str]) -> None:
    term = feedback.term
    verdict = "Right." if feedback.correct else f"Not quite: the answer is “{term.term}”."
    _say(out, f"{verdict} {feedback.note}".strip())
    _say(out, f"{term.term}: {feedback.definition}", indent="  ")
    if feedback.steps:
        _say(out, f"Taught in: {'; '.join(title(step) for step in feedback.steps)}", indent="  ")
    _say(out, f"Rated {feedback.rating.name}; back {feedback.due_in}.", indent="  ")


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def run_plain(
    session: QuizSession,
    stdin: TextIO,
    out: TextIO,
    title: Callable[[str], str] = str,
) -> Summary:
    """Run the whole session; returns its summary (also printed).

    ``title`` names a step for "Taught in" (``Catalog.step_title``); by default its id.
    """
    if session.finished:
        _say(out, session.empty_reason())
        return session.summary
    how = (
        "Answer with the number of a choice"
        if session.mode == "choice"
        else "Type the term (or the number of a choice, where choices are shown)"
    )
    _say(
        out,
        f"Glossary quiz: {len(session.terms)} question(s), mode {session.mode}. "
        f"{how}; ? for a hint; :q to stop.",
    )
    stopped = False
    echo = not _is_tty(stdin)
    while not session.finished and not stopped:
        _show_question(session, out)
        while True:
            out.write("> ")
            out.flush()
            line = stdin.readline()
            if not line:
                _say(out)
                stopped = True
                break
            answer = line.rstrip("\r\n")
            if echo:
                # Piped answers are not echoed by a terminal; echo them so transcripts read well.
                print(answer, file=out)
            if answer.strip() in QUIT:
                stopped = True
                break
            if answer.strip() == "?":
                _say(out, session.hint())
                _show_choices(session, out)
                continue
            try:
                feedback = session.answer(answer)
            except InvalidAnswer as exc:
                _say(out, str(exc))
                continue
            _show_feedback(feedback, out, title)
            session.advance()
            break
    _say(out)
    _say(out, f"Done. {session.summary.text()}")
    return session.summary
