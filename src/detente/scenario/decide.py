"""DECIDE's input files (``#A/#P/#M/#D`` rows), the format of Stokman's exchange-model program.

One row per line, fields separated by tabs (or commas or semicolons), text fields optionally
quoted with ``'`` or ``"``. The first field says what the row is:

========  ==========================================  =====================================
key       fields                                      meaning
========  ==========================================  =====================================
``#A``    id, name, comment                           an actor
``#P``    id, description                             an issue
``#M``    issue, position, description                a labelled point; the lowest and
                                                      highest give the issue's scale
``#D``    actor, issue, position, salience, power     an actor's stance on one issue
``#/``    text                                        a comment (also ``#O`` and ``#0``)
========  ==========================================  =====================================

Salience is on 0-1 and power is given per ``#D`` row (so it can differ between issues). An issue
without ``#M`` rows runs from 0 to 100. The result is an :class:`~detente.scenario.actors.ActorFile`
(salience on detente's 0-100, each issue's scale kept) so every engine can read it; anything
else is an :class:`~detente.errors.InputError` naming the file, the row and the field.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from detente.errors import InputError
from detente.scenario.actors import Actor, ActorFile, Issue
from detente.scenario.csvio import bounded, number_problem, parse_number
from detente.scenario.limits import MAX_CSV_CELL
from detente.scenario.yamlio import read_text

KEYS = ("#A", "#P", "#M", "#D", "#/", "#O", "#0")
_COMMENTS = ("#/", "#O", "#0")


def looks_like_decide(text: str) -> bool:
    """True when the first non-blank line starts with one of DECIDE's row keys."""
    for line in text.splitlines():
        if line.strip():
            first = line.lstrip().split("\t")[0].split(",")[0].split(";")[0]
            return first.strip().strip("'\"").upper() in KEYS
    return False


def _delimiter(text: str) -> str:
    if "\t" in text:
        return "\t"
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    return ";" if first.count(";") > first.count(",") else ","


def _cells(line: str, delimiter: str, file: str = "", line_no: int = 1) -> list[str]:
    quote = "'" if line.lstrip().startswith("'") else '"'
    try:
        row = next(csv.reader(io.StringIO(line), delimiter=delimiter, quotechar=quote), [])
    except csv.Error:
        what = f"a field longer than {MAX_CSV_CELL:,} characters, or a NUL byte"
        raise InputError(file, f"row {line_no}", what) from None
    return [c.strip().strip("'\"").strip() for c in row]


def read_decide(path: str | Path) -> ActorFile:
    """Read a DECIDE input file; actors keep their ``#A`` order and issues their ``#P`` order."""
    p = Path(path)
    file = str(p)
    text = read_text(p)
    delimiter = _delimiter(text)
    actors: dict[str, str] = {}
    issues: dict[str, int] = {}
    marks: dict[str, list[float]] = {}
    stances: dict[tuple[str, str], tuple[float, float, float, int]] = {}
    rows: list[tuple[int, list[str]]] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        cells = _cells(line, delimiter, file, line_no)
        key = cells[0].upper() if cells else ""
        if key not in KEYS:
            raise InputError(
                file,
                f"row {line_no}, field 1",
                f"unknown row type {cells[0] if cells else ''!r}; expected #A, #P, #M, #D or #/",
            )
        rows.append((line_no, cells))
    for line_no, cells in rows:
        key = cells[0].upper()
        if key == "#A":
            aid = _text(file, line_no, cells, 1, "actor id")
            if aid in actors:
                raise InputError(file, f"row {line_no}, field 2", f"actor {aid!r} defined twice")
            actors[aid] = cells[2] if len(cells) > 2 and cells[2] else aid
        elif key == "#P":
            iid = _text(file, line_no, cells, 1, "issue id")
            if iid in issues:
                raise InputError(file, f"row {line_no}, field 2", f"issue {iid!r} defined twice")
            issues[iid] = line_no
    for line_no, cells in rows:
        key = cells[0].upper()
        if key == "#M":
            iid = _known(file, line_no, cells, 1, issues, "issue", "#P")
            marks.setdefault(iid, []).append(_num(file, line_no, cells, 2, "position"))
        elif key == "#D":
            aid = _known(file, line_no, cells, 1, actors, "actor", "#A")
            iid = _known(file, line_no, cells, 2, issues, "issue", "#P")
            if (aid, iid) in stances:
                first = stances[(aid, iid)][3]
                raise InputError(
                    file,
                    f"row {line_no}",
                    f"second #D row for actor {aid!r} on issue {iid!r} (first: row {first})",
                )
            position = _num(file, line_no, cells, 3, "position")
            salience = _num(file, line_no, cells, 4, "salience")
            power = _num(file, line_no, cells, 5, "power")
            if not 0.0 <= salience <= 1.0:
                raise InputError(
                    file, f"row {line_no}, field 5", f"salience {salience:g}; expected 0 to 1"
                )
            if not 0.0 <= power <= 100.0:
                raise InputError(
                    file, f"row {line_no}, field 6", f"power {power:g}; expected 0 to 100"
                )
            stances[(aid, iid)] = (position, salience, power, line_no)
    if not actors:
        raise InputError(file, None, "no #A rows: a DECIDE file needs actors")
    if not issues:
        raise InputError(file, None, "no #P rows: a DECIDE file needs issues")
    out = []
    for iid, p_line in issues.items():
        lo, hi = (min(marks[iid]), max(marks[iid])) if iid in marks else (0.0, 100.0)
        if hi <= lo:
            raise InputError(
                file, f"row {p_line}", f"issue {iid!r}: its #M rows need two different positions"
            )
        members = []
        # the issue's actors in #D order, the order of the program's sums
        for (aid, jid), (x, s, c, d_line) in stances.items():
            if jid != iid:
                continue
            if not lo <= x <= hi:
                raise InputError(
                    file,
                    f"row {d_line}, field 4",
                    f"position {x:g} outside issue {iid!r}'s scale {lo:g} to {hi:g} (#M rows)",
                )
            # salience x 100 in decimal, so that detente's / 100 gives back the file's value
            sal = float(Decimal(repr(s)) * 100)
            members.append(Actor(name=aid, capability=c, position=x, salience=sal))
        if not members:
            raise InputError(file, f"row {p_line}", f"issue {iid!r} has no #D rows")
        out.append(Issue(id=iid, actors=members, lower=lo, upper=hi))
    return ActorFile(path=file, issues=out, actor_order=list(actors))


def _text(file: str, line: int, cells: list[str], i: int, what: str) -> str:
    if len(cells) <= i or not cells[i]:
        raise InputError(file, f"row {line}, field {i + 1}", f"missing {what}")
    return cells[i]


def _known(
    file: str,
    line: int,
    cells: list[str],
    i: int,
    known: Mapping[str, object],
    what: str,
    key: str,
) -> str:
    name = _text(file, line, cells, i, what)
    if name not in known:
        raise InputError(file, f"row {line}, field {i + 1}", f"{what} {name!r} has no {key} row")
    return name


def _num(file: str, line: int, cells: list[str], i: int, what: str) -> float:
    raw = cells[i] if len(cells) > i else ""
    value = parse_number(raw)
    if value is None:
        raise InputError(file, f"row {line}, field {i + 1}", f"{what}: {number_problem(raw)}")
    return bounded(value, file, f"row {line}, field {i + 1}", f"{what}: ")
