"""The glossary quiz: questions in three modes, typed-answer matching and FSRS scheduling.

Nothing here imports Textual or torch; the app's quiz screen and ``pytorch-tutor quiz --plain``
both drive a ``QuizSession``. Exercises call ``tutor.quiz.feed.exercise_failed`` to make the
terms of a failed step due sooner.
"""

from tutor.quiz.feed import exercise_failed
from tutor.quiz.questions import MODES, Mode, Question
from tutor.quiz.scheduler import QuizScheduler
from tutor.quiz.session import Feedback, InvalidAnswer, QuizSession
from tutor.quiz.source import QuizError, load_quiz_glossary

__all__ = [
    "MODES",
    "Feedback",
    "InvalidAnswer",
    "Mode",
    "Question",
    "QuizError",
    "QuizScheduler",
    "QuizSession",
    "exercise_failed",
    "load_quiz_glossary",
]
