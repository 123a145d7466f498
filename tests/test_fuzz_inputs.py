"""Fuzzing scenario files and actor tables: every input gives a one-line InputError or a result
whose numbers are all finite; nothing else (no traceback, no NaN, no hang).

Inputs are mutations of the shipped files: values swapped for other types, deleted or renamed
keys, huge, tiny, NaN and infinite numbers, deep nesting, alias bombs, keys that are lists, junk
bytes, truncation, a BOM; and CSV tables with random cells, separators and quoting. CI runs a few
hundred examples; more on demand (``docs/limits.md``)::

    DETENTE_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz_inputs.py
"""

from __future__ import annotations

import copy
import math
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from detente.cli import app
from detente.errors import InputError
from detente.forecast import run_scenario
from detente.scenario.actors import load_actor_file
from detente.scenario.coercion import load_scenario
from detente.solve import solve_issue

from .conftest import DATA, ROOT

#: Examples per fuzzer; DETENTE_FUZZ_EXAMPLES raises it (the documented way to fuzz for long).
EXAMPLES = int(os.environ.get("DETENTE_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SCENARIOS = [
    DATA / "neutral.yaml",
    ROOT / "examples" / "cases" / "iran-2018.yaml",
    ROOT / "examples" / "cases" / "belarus-2020.yaml",
    ROOT / "examples" / "cases" / "dprk-2017.yaml",
]
ACTOR_YAML = ROOT / "examples" / "iran-factions-2018.yaml"
TREES = {p: yaml.safe_load(p.read_text(encoding="utf-8")) for p in [*SCENARIOS, ACTOR_YAML]}

ODD_NUMBERS = [
    0,
    -1,
    1,
    240,
    241,
    1e9,
    1.0000001e9,
    1e10,
    1e308,
    -1e308,
    5e-324,
    1e-320,
    2**63,
    10**30,
    math.nan,
    math.inf,
    -math.inf,
    True,
    False,
]
VALUES = st.one_of(
    st.sampled_from(ODD_NUMBERS),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(["2020-08", "2020-13", "２０２０-０１", "Nov 2021", "", "yes", "0.5", "36"]),
    st.none(),
    st.lists(st.floats(allow_nan=True), max_size=4),
    st.dictionaries(
        st.sampled_from(["value", "uniform", "source", "x"]), st.integers(), max_size=3
    ),
    st.builds(
        lambda v: {"value": v, "assumption": "fuzz"},
        st.one_of(st.sampled_from(ODD_NUMBERS), st.floats()),
    ),
    st.builds(
        lambda a, b: {"uniform": [a, b], "assumption": "fuzz"},
        st.floats(),
        st.floats(),
    ),
)
#: Numbers that a strict reader accepts, from the smallest to the largest allowed, for edits that
#: keep a file valid and so reach the engines.
GOOD_NUMBERS = st.one_of(
    st.sampled_from([0, 0.0, 1, 0.5, 100, 1e9, -1e9, 5e-324, 1e-300, 2.2250738585072014e-308]),
    st.floats(min_value=-1e9, max_value=1e9),
    st.integers(min_value=-(10**9), max_value=10**9),
)
KEYS = st.one_of(
    st.text(max_size=10), st.integers(), st.sampled_from(["salince", "value", "<<", "from", "id"])
)
TEXT_EDITS = st.sampled_from(
    [
        "? [a]\n: 1\n",
        "? {a: 1}\n: 1\n",
        "deep: " + "[" * 600 + "]" * 600 + "\n",
        "deep: " + "{a: " * 200 + "1" + "}" * 200 + "\n",
        "junk: " + "9" * 5000 + "\n",
        "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 10)}]\n" for k in range(1, 8)),
        "x: !!python/object/apply:os.system ['true']\n",
        "loop: &loop [1, *loop]\n",
        "x: 1e99999\n",
        "x: 1:2:3:4:5:6:7:8:9:10:11:12:13:14:15:16:17:18:19:20\n",
        "x: 0000-01-01\n",
        "\t\x00\x01\x7f\n",
    ]
)


def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(tree, list):
        for k, value in enumerate(tree):
            yield from _paths(value, (*prefix, k))


def _parent(tree: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        tree = tree[part]
    return tree


@st.composite
def mutated_tree(draw: st.DrawFn, base: Any, numeric: frozenset[str]) -> Any:
    """``base`` with 1-3 edits: a number under a ``numeric`` key changed (most often), a value
    replaced, a key deleted or renamed, a value nested."""
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        op = draw(st.sampled_from(["number"] * 6 + ["replace", "delete", "rename", "nest", "add"]))
        if op == "number":
            paths = [p for p in paths if p[-1] in numeric] or paths
        path = draw(st.sampled_from(paths))
        parent = _parent(data, path)
        if op == "number":
            # mostly inside the usual ranges (a share, a 0-100 score), so that the file stays
            # valid and the engines run on edge values; sometimes anything allowed
            parent[path[-1]] = draw(
                st.one_of(
                    st.sampled_from([0, 1, 0.0, 1.0, 100, 5e-324, 1e-300, 0.999999999]),
                    st.floats(0, 1),
                    st.floats(0, 100),
                    GOOD_NUMBERS,
                )
            )
        elif op == "replace":
            parent[path[-1]] = draw(VALUES)
        elif op == "delete":
            del parent[path[-1]]
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(KEYS)] = parent.pop(path[-1])
        elif op == "nest":
            parent[path[-1]] = [parent[path[-1]]] * draw(st.integers(1, 3))
        elif op == "add" and isinstance(parent, dict):
            parent[draw(KEYS)] = draw(VALUES)
    return data


@st.composite
def scenario_bytes(draw: st.DrawFn) -> bytes:
    """A scenario file's bytes: a mutated tree, and maybe a text edit, junk or truncation."""
    base = draw(st.sampled_from(SCENARIOS))
    tree = draw(mutated_tree(TREES[base], frozenset({"value"})))
    text = yaml.safe_dump(tree, allow_unicode=True, sort_keys=False)
    data = text.encode("utf-8")
    edit = draw(st.sampled_from(["none"] * 4 + ["append", "junk", "truncate", "bom", "swap"]))
    if edit == "append":
        data += draw(TEXT_EDITS).encode("utf-8")
    elif edit == "junk":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    elif edit == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif edit == "bom":
        data = b"\xef\xbb\xbf" + data
    elif edit == "swap":
        lines = data.split(b"\n")
        k = draw(st.integers(0, len(lines) - 1))
        lines.insert(k, lines[draw(st.integers(0, len(lines) - 1))])
        data = b"\n".join(lines)
    return data


def _all_finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_all_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_all_finite(v) for v in value)
    if isinstance(value, np.ndarray):
        return bool(np.isfinite(value).all())
    return True


#: Outcomes seen, for the report of a long run (printed with -s).
TALLY: dict[str, int] = {}


def _outcome(kind: str) -> None:
    TALLY[kind] = TALLY.get(kind, 0) + 1


def _write(factory: pytest.TempPathFactory, name: str, data: bytes) -> Path:
    path = factory.mktemp("fuzz") / name
    path.write_bytes(data)
    return path


def _one_line(exc: InputError, path: Path) -> None:
    text = str(exc)
    assert "\n" not in text and "\r" not in text, text
    assert text.startswith(str(path)), text
    assert "Input should" not in text and "pydantic" not in text.lower(), text
    assert len(text) < 2000, text[:200]


T = TypeVar("T")


def _load_or_one_line(load: Callable[[Path], T], path: Path, what: str) -> T | None:
    """What ``load`` reads, or None after checking that its refusal is one line."""
    try:
        return load(path)
    except InputError as exc:
        _one_line(exc, path)
        _outcome(f"{what}: one-line error")
        return None


@FUZZ
@given(data=scenario_bytes())
def test_fuzzed_scenarios_give_one_line_or_finite_forecasts(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = _write(tmp_path_factory, "s.yaml", data)
    scn = _load_or_one_line(load_scenario, path, "scenario")
    if scn is None:
        return
    try:
        forecast = run_scenario(scn, draws=8, horizon=min(scn.horizon, 12))
    except InputError as exc:  # a run-time check (e.g. as-of) is still one line
        _one_line(exc, path)
        _outcome("scenario: one-line error at run")
        return
    assert _all_finite(forecast.by_horizon()), forecast.by_horizon()
    _outcome("scenario: finite forecast")


CELLS = st.one_of(
    st.sampled_from(
        ["", "x", "nan", "inf", "-inf", "1e308", "-1e308", "1e9", "1e10", "0", "-5", "100"]
        + ["101", "１", "1_000", " 3 ", '"q"', "1e-320", "true", "yes", "2", "0.5", "#A", "A"]
    ),
    st.floats(allow_nan=True).map(repr),
    st.integers(-(10**6), 10**6).map(str),
    st.text(max_size=8),
)
HEADERS = st.one_of(
    st.permutations(["actor", "capability", "position", "salience"]),
    st.just(["actor", "capability", "position", "salience", "risk", "veto", "source"]),
    st.lists(st.sampled_from(["actor", "capability", "position", "salience", "risk", "x"])),
    st.just(["S", "d", "2", "1"]),  # a KTAB scenario line
    st.just(["#A", "a1", "Actor 1"]),  # a DECIDE row
)


@st.composite
def table_bytes(draw: st.DrawFn) -> bytes:
    """A CSV actor table: a header (or a KTAB/DECIDE first line) and rows of odd cells."""
    sep = draw(st.sampled_from([",", ";", "\t"]))
    header = list(draw(HEADERS))
    names = st.sampled_from(["A", "B", "C", "D", ""])
    rows = draw(
        st.lists(
            st.builds(lambda n, cells: [n, *cells], names, st.lists(CELLS, max_size=7)),
            max_size=6,
        )
    )
    text = "\n".join(sep.join(row) for row in [header, *rows]) + "\n"
    if draw(st.booleans()):  # a well-formed table with some odd numbers
        good = [["A", "10", "20", "50"], ["B", "30", "70", "80"], ["C", "5", "90", "10"]]
        for _ in range(draw(st.integers(1, 4))):
            cell = draw(st.one_of(CELLS, GOOD_NUMBERS.map(repr), GOOD_NUMBERS.map(str)))
            good[draw(st.integers(0, 2))][draw(st.integers(1, 3))] = cell
        text = "\n".join(
            sep.join(r) for r in [["actor", "capability", "position", "salience"], *good]
        )
    data = text.encode("utf-8")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    if draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=6)) + data[at:]
    return data


def _solve_all(path: Path) -> None:
    table = _load_or_one_line(load_actor_file, path, "table")
    if table is None:
        return
    for issue in table.issues:
        fc = solve_issue(issue)
        for name, result in fc.results.items():
            assert np.isfinite(result.forecast).all(), (name, result.forecast)
            lo, hi = min(a.position for a in issue.actors), max(a.position for a in issue.actors)
            # every engine's forecast is a position between the actors' extremes
            assert (
                lo - 1e-9 * max(1.0, abs(lo)) <= result.forecast[0] <= hi + 1e-9 * max(1.0, abs(hi))
            )
    _outcome("table: finite forecast")


@FUZZ
@given(data=table_bytes())
def test_fuzzed_csv_tables_give_one_line_or_finite_forecasts(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    _solve_all(_write(tmp_path_factory, "t.csv", data))


@FUZZ
@given(tree=mutated_tree(TREES[ACTOR_YAML], frozenset({"capability", "position", "salience"})))
def test_fuzzed_yaml_tables_give_one_line_or_finite_forecasts(
    tmp_path_factory: pytest.TempPathFactory, tree: Any
) -> None:
    text = yaml.safe_dump(tree, allow_unicode=True, sort_keys=False)
    _solve_all(_write(tmp_path_factory, "t.yaml", text.encode("utf-8")))


@settings(max_examples=max(20, EXAMPLES // 5), deadline=None)
@given(data=scenario_bytes())
def test_fuzzed_scenarios_through_detente_check(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = _write(tmp_path_factory, "s.yaml", data)
    r = CliRunner().invoke(app, ["check", str(path)])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    assert r.exit_code in (0, 2)
    if r.exit_code == 2:
        lines = r.stderr.splitlines()
        assert lines and all(line.startswith(f"error: {path}") for line in lines), r.stderr


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        ("? [a]\n: 1\n", "line 56"),
        ("junk: " + "9" * 5000 + "\n", "line 56"),
        ("x: 1e99999\n", "x"),
    ],
)
def test_run_exits_2_with_one_line(tmp_path: Path, edit: str, where: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text((DATA / "neutral.yaml").read_text(encoding="utf-8") + edit, encoding="utf-8")
    r = CliRunner().invoke(app, ["run", str(path), "--no-store"])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith(f"error: {path}: {where}: ")


def test_the_real_command_exits_2_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    deep = "deep: " + "[" * 600 + "]" * 600 + "\n"
    path.write_text((DATA / "neutral.yaml").read_text(encoding="utf-8") + deep, encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-m", "detente", "run", str(path), "--no-store"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == f"error: {path}: line 56: not valid YAML: nested more than 32 levels deep\n"


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    """With ``-s``, the count of inputs by outcome (for a long run's report)."""
    yield
    print("\nfuzz outcomes:", dict(sorted(TALLY.items())), "total", sum(TALLY.values()))
