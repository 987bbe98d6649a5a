"""State: the one SQLite database (WAL) holding everything a learner does."""

from tutor.store.db import Database, move_aside, open_database
from tutor.store.errors import CorruptDatabase, NewerDatabase, StorageProblem, UnusableDatabase

__all__ = [
    "CorruptDatabase",
    "Database",
    "NewerDatabase",
    "StorageProblem",
    "UnusableDatabase",
    "move_aside",
    "open_database",
]
