"""The run store: every run, sensitivity, sweep and backtest, recorded in an embedded SQLite file.

Each record keeps the scenario's content and its hash, the detente version, the seed, the command
and the results, so any stored number can be traced to the exact input that made it. Writes are
one transaction each (SQLite's journal makes a write all or nothing, even if the process is
killed midway); nothing stored is ever changed or deleted by detente.

The file says what it is: SQLite's ``application_id`` is :data:`APPLICATION_ID` and its
``user_version`` the schema version (:data:`SCHEMA_VERSION`). A store written by a newer detente,
a SQLite file of another program, or a file that is not SQLite at all is refused with a
:class:`StoreError` (one line, naming the file); a store of an older schema is migrated when it is
opened for writing, and read as it is otherwise. A store that cannot be written (a read-only file
or directory) is opened read-only: it can be listed and shown, and adding to it raises a
:class:`StoreError`. A row that cannot be parsed is skipped by :meth:`RunStore.list` (and named in
:attr:`RunStore.skipped`, with a :class:`StoreWarning`), and :meth:`RunStore.get` of it raises a
:class:`StoreError`.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from detente import __version__
from detente.errors import InputError

ENV_VAR = "DETENTE_STORE"
#: The schema this code writes and reads. 0: detente's stores from before the version was
#: written (the same table; migrated by stamping the version and the application id).
SCHEMA_VERSION = 1
#: SQLite's application id of a detente run store (the bytes 'dtnt').
APPLICATION_ID = 0x64746E74
#: SQLite's largest integer: no run id is above it.
MAX_RUN_ID = 2**63 - 1
#: The columns of ``runs`` this code reads.
_COLUMNS = (
    "id",
    "created",
    "command",
    "scenario_id",
    "scenario_hash",
    "scenario_text",
    "version",
    "seed",
    "args",
    "summary",
    "result",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    command TEXT NOT NULL,
    scenario_id TEXT,
    scenario_hash TEXT,
    scenario_text TEXT,
    version TEXT NOT NULL,
    seed INTEGER,
    args TEXT NOT NULL,
    summary TEXT NOT NULL,
    result TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_scenario ON runs (scenario_id, created);
"""


class StoreError(InputError):
    """A run store that cannot be used as asked: one line naming the file (and the run)."""

    def __init__(self, path: str | Path, message: str, where: str | None = None) -> None:
        super().__init__(str(path), where, message)


class StoreWarning(UserWarning):
    """A row of the store that could not be read and was skipped."""


@dataclass(frozen=True)
class SkippedRow:
    """A row :meth:`RunStore.list` skipped: its id (None if unreadable) and why."""

    id: int | None
    reason: str

    def __str__(self) -> str:
        return f"run {self.id}: {self.reason}" if self.id is not None else self.reason


def default_path() -> Path:
    """``$DETENTE_STORE``, else ``runs.sqlite`` in the user's data directory."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    import platformdirs  # only for the default place: a store given by path needs none

    return Path(platformdirs.user_data_dir("detente")) / "runs.sqlite"


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Record:
    id: int
    created: str
    command: str
    scenario_id: str | None
    scenario_hash: str | None
    version: str
    seed: int | None
    args: dict[str, Any]
    summary: dict[str, Any]
    result: dict[str, Any]
    scenario_text: str | None = None

    def to_dict(self, full: bool = False) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": self.id,
            "created": self.created,
            "command": self.command,
            "scenario": self.scenario_id,
            "scenario_hash": self.scenario_hash,
            "version": self.version,
            "seed": self.seed,
            "args": self.args,
            "summary": self.summary,
        }
        if full:
            doc["result"] = self.result
            doc["scenario_text"] = self.scenario_text
        return doc


class RunStore:
    """A SQLite file of runs. Open it, ``add`` records, read them back.

    ``read_only``: None (default) opens for writing when the file (or its directory) can be
    written, and read-only otherwise; True never writes (nor creates, nor migrates).
    """

    def __init__(self, path: str | Path | None = None, read_only: bool | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        #: Rows the last :meth:`list` could not parse and skipped.
        self.skipped: list[SkippedRow] = []
        self.read_only = bool(read_only)
        #: Why the store was opened read-only when writing was asked for (None otherwise).
        self.write_error: str | None = None
        self._immutable = False
        if self.path.is_dir():
            raise StoreError(self.path, "is a directory, not a run store file")
        if not self.read_only:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.schema = self._open_for_writing()
                return
            except (OSError, sqlite3.Error) as exc:
                if not self.path.is_file():
                    raise StoreError(self.path, f"cannot create the run store: {exc}") from None
                # a store that cannot be written (read-only file, directory or medium) is still
                # readable: listed and shown; adding to it says why it cannot
                self.read_only, self.write_error = True, str(exc)
        if not self.path.is_file():
            raise StoreError(self.path, "no run store here")
        with self._errors("cannot read the run store"):
            self.schema = self._check()

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """SQLite's errors as one-line :class:`StoreError` s naming the file."""
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreError(self.path, f"{doing}: {exc}") from None

    @contextmanager
    def _connect(self, plain: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection (read-only ones by URI); a file that is not SQLite -> StoreError.
        ``plain``: without switching the file to WAL (checking a file changes nothing in it)."""
        try:
            conn = self._connect_read_only() if self.read_only else sqlite3.connect(self.path, 30)
        except sqlite3.OperationalError:
            raise
        except sqlite3.DatabaseError as exc:
            raise self._not_a_store(exc) from None
        try:
            if not (self.read_only or plain):
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
            yield conn
        except sqlite3.OperationalError:
            raise
        except sqlite3.DatabaseError as exc:
            raise self._not_a_store(exc) from None
        finally:
            conn.close()

    def _connect_read_only(self) -> sqlite3.Connection:
        """``mode=ro``; if SQLite cannot read a WAL store that way (no ``-shm`` file, and a
        directory it may not write one in), ``immutable=1``: nobody may write it then either."""
        base = "file:" + quote(str(self.path.resolve())) + "?mode=ro"
        if not self._immutable:
            conn: sqlite3.Connection | None = None
            try:
                conn = sqlite3.connect(base, uri=True, timeout=30)
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return conn
            except sqlite3.OperationalError:
                self._immutable = True
                if conn is not None:
                    conn.close()
            except BaseException:
                if conn is not None:
                    conn.close()
                raise
        return sqlite3.connect(base + "&immutable=1", uri=True, timeout=30)

    def _not_a_store(self, exc: sqlite3.DatabaseError) -> StoreError:
        return StoreError(self.path, f"not a detente run store (SQLite says: {exc})")

    def _check(self) -> int:
        """The store's schema version, after checking that it is a detente store this code
        can read (-1: an empty file, no schema yet)."""
        with self._connect(plain=True) as conn:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
            tables = {
                str(r[0])
                for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            } - {"sqlite_sequence"}
            columns = {str(r[1]) for r in conn.execute("PRAGMA table_info(runs)")}
        if app_id not in (0, APPLICATION_ID):
            raise StoreError(
                self.path,
                f"not a detente run store (a SQLite file of another program, id {app_id:#x})",
            )
        if version > SCHEMA_VERSION:
            raise StoreError(
                self.path,
                f"written by a newer detente (store schema {version}; this version reads up to "
                f"{SCHEMA_VERSION}): upgrade detente, or use another store (--store)",
            )
        if not tables:
            return -1  # an empty file: no schema yet
        if "runs" not in tables:
            raise StoreError(
                self.path,
                f"not a detente run store (no table 'runs'; tables: {', '.join(sorted(tables))})",
            )
        missing = [c for c in _COLUMNS if c not in columns]
        if missing:
            raise StoreError(
                self.path,
                f"not a detente run store (table 'runs' lacks {', '.join(missing)})",
            )
        return version

    def _open_for_writing(self) -> int:
        """Check the store, then create or migrate it to :data:`SCHEMA_VERSION` in one
        transaction (writers racing to do it do it once)."""
        if self._check() == SCHEMA_VERSION:
            return SCHEMA_VERSION
        with self._connect() as conn:
            conn.isolation_level = None  # explicit transaction: PRAGMAs included
            conn.execute("BEGIN IMMEDIATE")
            try:
                if int(conn.execute("PRAGMA user_version").fetchone()[0]) < SCHEMA_VERSION:
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    # version 0 -> 1: the table is the same; the file now says what it is
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return SCHEMA_VERSION

    def add(
        self,
        command: str,
        args: dict[str, Any],
        summary: dict[str, Any],
        result: dict[str, Any],
        scenario_id: str | None = None,
        scenario_text: str | None = None,
        seed: int | None = None,
    ) -> int:
        """Store one record in one transaction; returns its id. A store that cannot take it
        (read-only, a seed beyond SQLite's integers, a value that is not finite JSON, a disk
        error) raises a :class:`StoreError` and stores nothing."""
        if self.read_only:
            why = f" ({self.write_error})" if self.write_error else ""
            raise StoreError(
                self.path, f"the run store is read-only{why}: the run was not recorded"
            )
        if seed is not None and not -MAX_RUN_ID - 1 <= seed <= MAX_RUN_ID:
            raise StoreError(
                self.path, f"seed {seed} does not fit the run store (at most {MAX_RUN_ID})"
            )
        try:
            texts = [
                json.dumps(v, sort_keys=True, allow_nan=False) for v in (args, summary, result)
            ]
        except (TypeError, ValueError) as exc:
            raise StoreError(self.path, f"the run cannot be recorded: {exc}") from None
        row = (
            datetime.now(UTC).isoformat(timespec="seconds"),
            command,
            scenario_id,
            None if scenario_text is None else content_hash(scenario_text),
            scenario_text,
            __version__,
            seed,
            *texts,
        )
        with self._errors("the run was not recorded"), self._connect() as conn, conn:
            cur = conn.execute(
                "INSERT INTO runs (created, command, scenario_id, scenario_hash, scenario_text,"
                " version, seed, args, summary, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return int(cur.lastrowid or 0)

    def list(self, limit: int = 50, scenario_id: str | None = None) -> list[Record]:
        """The latest ``limit`` records, newest first; rows that cannot be parsed are skipped,
        named in :attr:`skipped` and warned about (:class:`StoreWarning`)."""
        self.skipped = []
        if self.schema < 0:
            return []  # an empty file that could not be given a schema (read-only)
        query = "SELECT * FROM runs"
        params: tuple[Any, ...] = ()
        if scenario_id:
            query += " WHERE scenario_id = ?"
            params = (scenario_id,)
        query += " ORDER BY id DESC LIMIT ?"
        with self._errors("cannot read the run store"), self._connect() as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute(query, (*params, max(0, min(limit, MAX_RUN_ID)))).fetchall()
        out = []
        for row in rows:
            try:
                out.append(_record(row))
            except ValueError as exc:
                rid = row["id"] if isinstance(row["id"], int) else None
                self.skipped.append(SkippedRow(rid, str(exc)))
                warnings.warn(
                    f"{self.path}: skipped {self.skipped[-1]}", StoreWarning, stacklevel=2
                )
        return out

    def get(self, run_id: int) -> Record | None:
        """Record ``run_id``, or None when there is none (any id outside SQLite's integers
        included); a row that cannot be parsed raises a :class:`StoreError` naming it."""
        if self.schema < 0 or not 1 <= run_id <= MAX_RUN_ID:
            return None
        with self._errors("cannot read the run store"), self._connect() as conn:
            conn.row_factory = sqlite3.Row
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            return None
        try:
            return _record(row)
        except ValueError as exc:
            raise StoreError(self.path, f"cannot be read: {exc}", f"run {run_id}") from None

    def check(self) -> str:
        """SQLite's own integrity check ('ok' when the file is sound)."""
        with self._errors("cannot check the run store"), self._connect() as conn:
            return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def _field(row: sqlite3.Row, name: str, kind: type, optional: bool = False) -> Any:
    value = row[name]
    if value is None and optional:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"field '{name}' is {type(value).__name__}, expected {kind.__name__}")
    return value


def _json_object(row: sqlite3.Row, name: str) -> dict[str, Any]:
    text = _field(row, name, str)
    try:
        value = json.loads(text)
    except ValueError:
        raise ValueError(f"field '{name}' is not JSON") from None
    if not isinstance(value, dict):
        raise ValueError(f"field '{name}' is JSON {type(value).__name__}, expected an object")
    return value


def _record(row: sqlite3.Row) -> Record:
    """A row as a :class:`Record`; ValueError naming the field that does not parse."""
    return Record(
        id=_field(row, "id", int),
        created=_field(row, "created", str),
        command=_field(row, "command", str),
        scenario_id=_field(row, "scenario_id", str, optional=True),
        scenario_hash=_field(row, "scenario_hash", str, optional=True),
        version=_field(row, "version", str),
        seed=_field(row, "seed", int, optional=True),
        args=_json_object(row, "args"),
        summary=_json_object(row, "summary"),
        result=_json_object(row, "result"),
        scenario_text=_field(row, "scenario_text", str, optional=True),
    )


def diff(a: Record, b: Record) -> dict[str, Any]:
    """What differs between two runs: inputs (scenario hash, version, seed, args) and summaries."""
    out: dict[str, Any] = {"a": a.id, "b": b.id, "inputs": {}, "summary": {}}
    for key in ("command", "scenario_id", "scenario_hash", "version", "seed"):
        va, vb = getattr(a, key), getattr(b, key)
        if va != vb:
            out["inputs"][key] = [va, vb]
    for key in sorted(set(a.args) | set(b.args)):
        if a.args.get(key) != b.args.get(key):
            out["inputs"][f"args.{key}"] = [a.args.get(key), b.args.get(key)]
    out["summary"] = _diff_values(a.summary, b.summary)
    return out


def _diff_values(a: Any, b: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: dict[str, Any] = {}
        for key in sorted(set(a) | set(b), key=str):
            out.update(_diff_values(a.get(key), b.get(key), f"{prefix}{key}."))
        return out
    if a != b:
        entry: dict[str, Any] = {"a": a, "b": b}
        if isinstance(a, int | float) and isinstance(b, int | float):
            entry["change"] = b - a
        return {prefix.rstrip("."): entry}
    return {}
