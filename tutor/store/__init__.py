"""State: the one SQLite database (WAL) holding everything a learner does."""

from tutor.store.db import CorruptDatabase, Database, move_aside, open_database

__all__ = ["CorruptDatabase", "Database", "move_aside", "open_database"]
