"""The run store: every run, sensitivity, sweep and backtest, recorded in an embedded SQLite file.

Each record keeps the scenario's content and its hash, the detente version, the seed, the command
and the results, so any stored number can be traced to the exact input that made it. Writes are
one transaction each (SQLite's journal makes a write all or nothing, even if the process is
killed midway); nothing stored is ever changed or deleted by detente.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs

from detente import __version__

ENV_VAR = "DETENTE_STORE"

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


def default_path() -> Path:
    """``$DETENTE_STORE``, else ``runs.sqlite`` in the user's data directory."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
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
    """A SQLite file of runs. Open it, ``add`` records, read them back."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            yield conn
        finally:
            conn.close()

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
        """Store one record in one transaction; returns its id."""
        row = (
            datetime.now(UTC).isoformat(timespec="seconds"),
            command,
            scenario_id,
            None if scenario_text is None else content_hash(scenario_text),
            scenario_text,
            __version__,
            seed,
            json.dumps(args, sort_keys=True),
            json.dumps(summary, sort_keys=True),
            json.dumps(result, sort_keys=True, allow_nan=False),
        )
        with self._connect() as conn, conn:
            cur = conn.execute(
                "INSERT INTO runs (created, command, scenario_id, scenario_hash, scenario_text,"
                " version, seed, args, summary, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return int(cur.lastrowid or 0)

    def list(self, limit: int = 50, scenario_id: str | None = None) -> list[Record]:
        query = "SELECT * FROM runs"
        params: tuple[Any, ...] = ()
        if scenario_id:
            query += " WHERE scenario_id = ?"
            params = (scenario_id,)
        query += " ORDER BY id DESC LIMIT ?"
        with self._connect() as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute(query, (*params, limit)).fetchall()
        return [_record(r) for r in rows]

    def get(self, run_id: int) -> Record | None:
        with self._connect() as conn:
            conn.row_factory = sqlite3.Row
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return None if row is None else _record(row)

    def check(self) -> str:
        """SQLite's own integrity check ('ok' when the file is sound)."""
        with self._connect() as conn:
            return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def _record(row: sqlite3.Row) -> Record:
    return Record(
        id=row["id"],
        created=row["created"],
        command=row["command"],
        scenario_id=row["scenario_id"],
        scenario_hash=row["scenario_hash"],
        version=row["version"],
        seed=row["seed"],
        args=json.loads(row["args"]),
        summary=json.loads(row["summary"]),
        result=json.loads(row["result"]),
        scenario_text=row["scenario_text"],
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
