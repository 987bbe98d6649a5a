"""What went wrong with stored state: damage to the database, or a problem with the disk under it.

A full disk, an exhausted quota, a read-only file system, missing permission and I/O errors are
storage problems: nothing is wrong with the data, and the learner is told what to do about the disk.
Only a database that SQLite itself finds corrupt (its integrity check, ``SQLITE_CORRUPT``,
``SQLITE_NOTADB``) is damaged, and only then is moving it aside offered. SQLite's result codes are
read from the exception (``sqlite_errorcode``), never from its message.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Kind = Literal["full", "quota", "read-only", "permission", "file-permission", "io", "busy"]

# SQLite primary result codes (the low byte of an extended code).
SQLITE_PERM = 3
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26

# Below this much free space an I/O error is taken for a full disk: SQLite reports a full disk
# while growing its shared-memory index as SQLITE_IOERR_SHMSIZE, not SQLITE_FULL.
NEARLY_FULL_BYTES = 256 * 1024


class UnusableDatabase(Exception):
    """The progress database cannot be used as it is; carries its path and the reason."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path


class CorruptDatabase(UnusableDatabase):
    """SQLite finds the database damaged: the only case where moving it aside is offered."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(path, f"The progress database {path} is damaged ({detail}).")
        self.detail = detail


class NewerDatabase(UnusableDatabase):
    """The database was written by a newer tutor: healthy, but not for this version."""

    def __init__(self, path: Path, version: int) -> None:
        super().__init__(
            path,
            f"The progress database {path} has schema version {version}, newer than this "
            "tutor knows; upgrade pytorch-tutor to use it.",
        )


def sqlite_code(exc: BaseException) -> int | None:
    """SQLite's primary result code carried by ``exc``, or None."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def is_damage(exc: BaseException) -> bool:
    """Whether SQLite says the file itself is corrupt or not a database."""
    return sqlite_code(exc) in (SQLITE_CORRUPT, SQLITE_NOTADB)


def free_bytes(directory: Path) -> int | None:
    """Free space on the disk holding ``directory`` (its nearest existing parent), if known."""
    probe = directory
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return None


def _writable(directory: Path) -> bool:
    return os.access(directory, os.W_OK | os.X_OK) if directory.exists() else True


# The files SQLite writes for a database: the file itself, its write-ahead log, its index.
SIDE_FILES = ("", "-wal", "-shm")


def unwritable_file(database: Path | None) -> Path | None:
    """The first of the database's files that exists and that this user may not write, if any
    (one left behind by ``sudo``, say, in a folder that is the learner's own)."""
    if database is None:
        return None
    for suffix in SIDE_FILES:
        path = database.with_name(database.name + suffix)
        if path.exists() and not os.access(path, os.W_OK):
            return path
    return None


def storage_kind(
    exc: BaseException, directory: Path | None = None, database: Path | None = None
) -> Kind | None:
    """The storage problem ``exc`` reports, or None when it is not one (damage, a bug, a typo).

    ``directory`` is where the write went; it tells a full disk behind an I/O error, and
    permissions behind SQLite's "unable to open". ``database`` (the file in it) tells a file the
    learner may not write from a read-only disk, which SQLite reports alike.
    """
    if isinstance(exc, OSError):
        by_errno: dict[int, Kind] = {
            errno.ENOSPC: "full",
            getattr(errno, "EDQUOT", -1): "quota",
            errno.EROFS: "read-only",
            errno.EACCES: "permission",
            errno.EPERM: "permission",
            errno.EIO: "io",
        }
        return by_errno.get(exc.errno or 0)
    code = sqlite_code(exc)
    if code is None:
        return None
    if code == SQLITE_FULL:
        return "full"
    if code in (SQLITE_READONLY, SQLITE_PERM, SQLITE_CANTOPEN):
        # A read-only mount also fails os.access: ask the mount first. "Unable to open" is a
        # storage problem only when the folder cannot be written or is full; otherwise (a folder
        # that is a file, a bad name) it is left to the caller.
        if directory is not None and _read_only_mount(directory):
            return "read-only"
        if directory is not None and not _writable(directory):
            return "permission"
        if unwritable_file(database) is not None:
            return "file-permission"
        if code != SQLITE_CANTOPEN:
            return "read-only"
        free = free_bytes(directory) if directory is not None else None
        return "full" if free is not None and free < NEARLY_FULL_BYTES else None
    if code == SQLITE_IOERR:
        free = free_bytes(directory) if directory is not None else None
        return "full" if free is not None and free < NEARLY_FULL_BYTES else "io"
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return "busy"
    return None


def _read_only_mount(directory: Path) -> bool:
    probe = directory
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return bool(os.statvfs(probe).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def human_bytes(count: int | None) -> str:
    """``12.3 MB``-style size; "unknown" when not known."""
    if count is None:
        return "unknown"
    size = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"


@dataclass(frozen=True)
class StorageProblem:
    """A storage problem at ``directory``: what it is, how much space is free, what to do.

    ``blocked`` is the file this user may not write, for a "file-permission" problem.
    """

    kind: Kind
    directory: Path
    free: int | None
    blocked: Path | None = None

    @classmethod
    def from_exception(
        cls, exc: BaseException, directory: Path, database: Path | None = None
    ) -> StorageProblem | None:
        """The problem ``exc`` reports for a write under ``directory`` (to ``database``), or None."""
        kind = storage_kind(exc, directory, database)
        if kind is None:
            return None
        blocked = unwritable_file(database) if kind == "file-permission" else None
        return cls(kind, directory, free_bytes(directory), blocked)

    @property
    def reason(self) -> str:
        """What is wrong, naming the folder and its free space."""
        free = f"{human_bytes(self.free)} free"
        where = self.directory
        return {
            "full": f"the disk holding {where} is full ({free})",
            "quota": f"your disk quota for {where} is used up ({free} on the disk)",
            "read-only": f"{where} is on a read-only file system ({free})",
            "permission": f"you have no permission to write in {where} ({free})",
            "file-permission": f"you have no permission to write {self.blocked} ({free})",
            "io": f"the disk holding {where} reported an I/O error ({free})",
            "busy": f"another program holds the progress database in {where} locked ({free})",
        }[self.kind]

    @property
    def advice(self) -> str:
        """What the learner can do about it."""
        return {
            "full": "free some space there, or set PYTORCH_TUTOR_HOME to a folder on another disk",
            "quota": "delete files you own there (`quota -s` shows the limit) or ask for more",
            "read-only": "set PYTORCH_TUTOR_HOME to a writable folder",
            "permission": "make the folder yours (chmod u+w) or set PYTORCH_TUTOR_HOME elsewhere",
            "file-permission": "make the files yours again (sudo chown $USER "
            f"{_database_of(self.blocked)}*) or set PYTORCH_TUTOR_HOME elsewhere",
            "io": "check the disk (and your quota) before going on",
            "busy": "close other pytorch-tutor windows and commands, then try again",
        }[self.kind]

    def sentence(self, what: str) -> str:
        """One sentence: ``what`` (e.g. "The attempt was not saved"), the reason, the advice."""
        return f"{what}: {self.reason}; {self.advice}."


def _database_of(path: Path | None) -> Path | None:
    """The database a side file (``-wal``, ``-shm``) belongs to."""
    if path is None:
        return None
    for suffix in SIDE_FILES[1:]:
        if path.name.endswith(suffix):
            return path.with_name(path.name[: -len(suffix)])
    return path


def describe_sqlite_error(exc: sqlite3.Error) -> str:
    """SQLite's words and its code name, for messages about errors that are not storage."""
    name = getattr(exc, "sqlite_errorname", None)
    return f"{exc} ({name})" if name else str(exc)
