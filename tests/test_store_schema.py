"""The run store says what it is and what it did: a schema version written and checked, older
stores migrated, newer and foreign files refused in one line, read-only stores readable, rows
that do not parse skipped (list) or named (show), and run ids beyond SQLite's integers."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from detente import store as S
from detente.store import RunStore, StoreError, StoreWarning

from .test_cli import detente

OLD_SCHEMA = S._SCHEMA  # version 0 stores had this very table, without a version


def _pragma(path: Path, name: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(f"PRAGMA {name}").fetchone()[0])
    finally:
        conn.close()


def _raw(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    try:
        for st in statements:
            conn.executescript(st)
        conn.commit()
    finally:
        conn.close()


def _old_store(path: Path) -> None:
    _raw(
        path,
        OLD_SCHEMA,
        "INSERT INTO runs (created, command, version, args, summary, result)"
        " VALUES ('2026-01-01T00:00:00+00:00', 'run', '0.1', '{}', '{\"p\": 1}', '{}')",
    )


def _one_line(exc: pytest.ExceptionInfo[StoreError], path: Path, *words: str) -> None:
    text = str(exc.value)
    assert "\n" not in text and text.startswith(str(path))
    for w in words:
        assert w in text, text


def test_a_new_store_is_stamped_with_its_schema(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    st = RunStore(path)
    assert st.schema == S.SCHEMA_VERSION == _pragma(path, "user_version")
    assert _pragma(path, "application_id") == S.APPLICATION_ID
    assert st.add("run", {}, {}, {}) == 1 and RunStore(path).schema == S.SCHEMA_VERSION


def test_an_older_store_is_migrated_when_written_and_read_as_is_when_read_only(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite"
    _old_store(path)
    assert _pragma(path, "user_version") == 0
    ro = RunStore(path, read_only=True)
    assert ro.schema == 0 and [r.summary for r in ro.list()] == [{"p": 1}]
    assert _pragma(path, "user_version") == 0  # reading changed nothing
    st = RunStore(path)
    assert st.schema == 1 and _pragma(path, "user_version") == 1
    assert _pragma(path, "application_id") == S.APPLICATION_ID
    assert [r.id for r in st.list()] == [1] and st.add("run", {}, {}, {}) == 2


@pytest.mark.parametrize("read_only", [None, True])
def test_a_newer_store_is_refused_in_one_line(tmp_path: Path, read_only: bool | None) -> None:
    path = tmp_path / "newer.sqlite"
    RunStore(path).add("run", {}, {}, {})
    _raw(path, f"PRAGMA user_version = {S.SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError) as exc:
        RunStore(path, read_only=read_only)
    _one_line(exc, path, "newer detente", f"schema {S.SCHEMA_VERSION + 1}")
    assert _pragma(path, "user_version") == S.SCHEMA_VERSION + 1  # left as it was


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        (lambda p: p.write_text("hello, not a database\n" * 100), ["not a detente run store"]),
        (lambda p: _raw(p, "CREATE TABLE notes (x TEXT)"), ["no table 'runs'", "notes"]),
        (lambda p: _raw(p, "CREATE TABLE runs (id INTEGER)"), ["lacks created"]),
        (
            lambda p: _raw(p, OLD_SCHEMA, "PRAGMA application_id = 7"),
            ["another program", "0x7"],
        ),
    ],
)
def test_a_foreign_file_is_refused_in_one_line(tmp_path: Path, setup, words) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "foreign.sqlite"
    setup(path)
    before = path.read_bytes()
    for read_only in (None, True):
        with pytest.raises(StoreError) as exc:
            RunStore(path, read_only=read_only).list()
        _one_line(exc, path, *words)
    assert path.read_bytes() == before


def test_a_read_only_store_can_be_listed_and_shown(tmp_path: Path) -> None:
    path = tmp_path / "ro.sqlite"
    rid = RunStore(path).add("run", {"a": 1}, {"p": 0.5}, {"r": [1]}, "s", "text", 3)
    ro = RunStore(path, read_only=True)
    assert ro.read_only and [r.id for r in ro.list()] == [rid]
    got = ro.get(rid)
    assert got is not None and got.result == {"r": [1]} and got.seed == 3
    assert ro.check() == "ok"
    with pytest.raises(StoreError) as exc:
        ro.add("run", {}, {}, {})
    _one_line(exc, path, "read-only", "not recorded")
    assert len(RunStore(path).list()) == 1


def test_a_store_that_cannot_be_written_is_opened_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "locked.sqlite"
    RunStore(path).add("run", {}, {"p": 1}, {})

    def refuse(self: RunStore) -> int:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(RunStore, "_open_for_writing", refuse)
    st = RunStore(path)
    assert st.read_only and st.write_error == "attempt to write a readonly database"
    assert [r.summary for r in st.list()] == [{"p": 1}]
    with pytest.raises(StoreError, match="read-only .attempt to write a readonly database."):
        st.add("run", {}, {}, {})
    # nothing to read where there is no store and none can be made
    with pytest.raises(StoreError, match="cannot create the run store"):
        RunStore(tmp_path / "absent.sqlite")


def test_a_wal_store_sqlite_cannot_open_read_only_is_read_immutable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite cannot open a WAL store with ``mode=ro`` when there is no ``-shm`` file and the
    directory may not get one; the store then reads it with ``immutable=1``."""
    path = tmp_path / "wal.sqlite"
    RunStore(path).add("run", {}, {"p": 2}, {})
    real = sqlite3.connect
    tried: list[str] = []

    def connect(target: str, *args: object, **kw: object) -> sqlite3.Connection:
        tried.append(str(target))
        if "mode=ro" in str(target) and "immutable" not in str(target):
            raise sqlite3.OperationalError("unable to open database file")
        return real(target, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(S.sqlite3, "connect", connect)
    st = RunStore(path, read_only=True)
    assert [r.summary for r in st.list()] == [{"p": 2}]
    assert "immutable=1" in tried[-1] and any("immutable" not in t for t in tried)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files and directories")
def test_a_store_in_a_read_only_directory_is_readable(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "runs.sqlite"
    RunStore(path).add("run", {}, {"p": 1}, {})
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        st = RunStore(path)
        assert st.read_only and [r.summary for r in st.list()] == [{"p": 1}]
        with pytest.raises(StoreError, match="read-only"):
            st.add("run", {}, {}, {})
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)


def test_rows_that_do_not_parse_are_skipped_by_list_and_named_by_get(tmp_path: Path) -> None:
    path = tmp_path / "bad.sqlite"
    st = RunStore(path)
    good = st.add("run", {}, {"p": 1}, {})
    _raw(
        path,
        "INSERT INTO runs (created, command, version, args, summary, result)"
        " VALUES ('t', 'run', '1', 'not json', '{}', '{}')",
        "INSERT INTO runs (created, command, version, seed, args, summary, result)"
        " VALUES ('t', 'run', '1', 'abc', '{}', '{}', '{}')",
        "INSERT INTO runs (created, command, version, args, summary, result)"
        " VALUES ('t', 'run', '1', '{}', '{}', '[1, 2]')",
    )
    with pytest.warns(StoreWarning) as caught:
        listed = st.list()
    assert len(caught) == 3 and "skipped run 2: field 'args' is not JSON" in str(caught[2].message)
    assert [r.id for r in listed] == [good]
    assert [str(s) for s in st.skipped] == [
        "run 4: field 'result' is JSON list, expected an object",
        "run 3: field 'seed' is str, expected int",
        "run 2: field 'args' is not JSON",
    ]
    for rid, field in ((2, "args"), (3, "seed"), (4, "result")):
        with pytest.raises(StoreError) as exc:
            st.get(rid)
        _one_line(exc, path, f"run {rid}", f"field '{field}'")
    assert st.get(good) is not None


def test_ids_and_seeds_beyond_sqlite_integers(tmp_path: Path) -> None:
    st = RunStore(tmp_path / "ids.sqlite")
    st.add("run", {}, {}, {})
    for rid in (0, -1, 2**63, 10**30):
        assert st.get(rid) is None
    assert st.get(1) is not None
    with pytest.raises(StoreError, match="seed 9223372036854775808 does not fit"):
        st.add("run", {}, {}, {}, seed=2**63)
    with pytest.raises(StoreError, match="cannot be recorded"):
        st.add("run", {}, {}, {"p": float("nan")})
    assert [r.id for r in st.list()] == [1]  # nothing half-stored


def test_cli_huge_run_id_and_newer_store_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "cli.sqlite"
    RunStore(path).add("run", {}, {}, {})
    r = detente("runs", "show", str(10**30), "--store", path)
    assert r.returncode == 2 and "no run" in r.stderr and "Traceback" not in r.stderr
    _raw(path, f"PRAGMA user_version = {S.SCHEMA_VERSION + 1}")
    r = detente("runs", "list", "--store", path)
    assert r.returncode == 2 and "newer detente" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_runs_list_says_each_skipped_row_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    st = RunStore(path)
    st.add("run", {"draws": 1}, {"x": 1}, {"y": 2}, scenario_id="a", seed=1)
    st.add("run", {"draws": 1}, {"x": 1}, {"y": 2}, scenario_id="b", seed=1)
    with sqlite3.connect(path) as con:
        con.execute("UPDATE runs SET summary = '{bad' WHERE id = 1")
    r = detente("runs", "list", "--store", path, "--json")
    assert r.returncode == 0
    assert [row["id"] for row in json.loads(r.stdout)] == [2]
    assert r.stderr.strip() == "warning: skipped run 1: field 'summary' is not JSON"


def test_runs_list_before_any_run_is_an_empty_answer(tmp_path: Path) -> None:
    path = tmp_path / "none.sqlite"
    r = detente("runs", "list", "--store", path)
    assert r.returncode == 0 and "No runs recorded yet" in r.stdout
    r = detente("runs", "list", "--store", path, "--json")
    assert r.returncode == 0 and json.loads(r.stdout) == []
    assert not path.exists()  # looking does not create a store
