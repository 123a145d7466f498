"""KTAB's CSV scenario format, and actor tables as the dimensions of one spatial decision.

KTAB's format (``examples/smp/libsrc/smpread.cpp``, ``SMPModel::csvRead``)::

    <scenario name>, <description>, <number of actors>, <number of dimensions> [, ...]
    Actor, Description, Power, <dimension 1>, <salience 1>, <dimension 2>, <salience 2>, ...
    <actor>, <description>, <capability>, <position 1>, <salience 1>, <position 2>, ...

Positions and saliences are 0-100, an actor's saliences summing to at most 100; a trailing
comma is allowed; double quotes around a field are removed; empty lines are skipped. A file is
read as an :class:`~detente.scenario.actors.ActorFile` with one issue per dimension, so every
engine can use it; the SMP treats the issues as the dimensions of one decision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from detente.engines.smp import SpatialActors
from detente.errors import InputError
from detente.scenario.actors import Actor, ActorFile, Issue
from detente.scenario.csvio import NUMBER, bounded, csv_rows
from detente.scenario.yamlio import read_text

#: KTAB's bound on a capability (smpread.cpp).
MAX_CAPABILITY = 1e8
_COUNT = re.compile(r"[0-9]{1,9}", re.ASCII)


def _rows(text: str, file: str = "") -> list[tuple[int, list[str]]]:
    """Non-empty CSV rows with their line numbers, cells stripped."""
    return csv_rows(text, file)


def is_ktab_csv(text: str) -> bool:
    """Whether a CSV file's first line is KTAB's scenario line (its 3rd and 4th fields counts)."""
    try:
        rows = _rows(text)
    except InputError:
        return False  # not CSV at all: the plain reader says why, naming the file
    if not rows:
        return False
    first = rows[0][1]
    return len(first) >= 4 and all(_COUNT.fullmatch(c) for c in first[2:4])


def read_ktab_csv(path: str | Path, text: str | None = None) -> ActorFile:
    """Read a KTAB CSV file; anything KTAB would refuse is an :class:`InputError` naming the
    line and the field."""
    p = Path(path)
    file = str(p)
    rows = _rows(read_text(p) if text is None else text, file)
    if len(rows) < 2:
        raise InputError(file, None, "expected a scenario line, a header line and actor lines")
    line, first = rows[0]
    if len(first) < 4 or not all(_COUNT.fullmatch(c) for c in first[2:4]):
        raise InputError(
            file,
            f"line {line}",
            "expected the scenario line: name, description, number of actors, number of dims",
        )
    n_actors, n_dims = int(first[2]), int(first[3])
    if n_dims < 1:
        raise InputError(file, f"line {line}", "the number of dimensions must be at least 1")
    if n_actors < 1:
        raise InputError(file, f"line {line}", "the number of actors must be at least 1")
    width = 3 + 2 * n_dims
    line, header = rows[1]
    if len(header) < width or not all(header[3:width]):
        raise InputError(
            file,
            f"line {line}",
            f"expected a header of {width} names (Actor, Description, Power, then a position "
            f"and a salience name for each of the {n_dims} dimensions)",
        )
    _no_extra(file, line, header, width)
    dims = header[3:width:2]
    if len(set(dims)) != n_dims:
        raise InputError(file, f"line {line}", "a dimension name appears twice")
    body = rows[2:]
    if len(body) != n_actors:
        raise InputError(
            file,
            f"line {rows[0][0]}",
            f"the scenario line announces {n_actors} actors but the file has {len(body)}",
        )
    seen: dict[str, int] = {}
    names, caps, pos, sal = [], [], [], []
    for line, row in body:
        if len(row) < width:
            raise InputError(file, f"line {line}", f"{len(row)} fields, expected {width}")
        _no_extra(file, line, row, width)
        name = row[0]
        if not name:
            raise InputError(file, f"line {line}, field 'Actor'", "empty actor name")
        if name in seen:
            raise InputError(
                file,
                f"line {line}, field 'Actor'",
                f"actor {name!r} appears twice (line {seen[name]})",
            )
        seen[name] = line
        cap = _number(file, line, header[2] or "Power", row[2])
        if not 0.0 < cap <= MAX_CAPABILITY:
            raise InputError(
                file,
                f"line {line}, field {header[2]!r}",
                f"expected a capability above 0 and at most 1e8, got {row[2]!r}",
            )
        p_row, s_row = [], []
        total = 0.0
        for k in range(n_dims):
            p_name, s_name = header[3 + 2 * k], header[4 + 2 * k]
            x = _number(file, line, p_name, row[3 + 2 * k])
            s = _number(file, line, s_name, row[4 + 2 * k])
            for value, field, what in ((x, p_name, "position"), (s, s_name, "salience")):
                if not 0.0 <= value <= 100.0:
                    raise InputError(
                        file,
                        f"line {line}, field {field!r}",
                        f"expected a {what} from 0 to 100, got {value:g}",
                    )
            total = total + s
            if total > 100.0:
                raise InputError(
                    file,
                    f"line {line}, field {s_name!r}",
                    f"the saliences of {name!r} sum to more than 100",
                )
            p_row.append(x)
            s_row.append(s)
        names.append(name)
        caps.append(cap)
        pos.append(p_row)
        sal.append(s_row)
    issues = [
        Issue(
            id=dim,
            actors=[
                Actor(name=a, capability=c, position=p[k], salience=s[k])
                for a, c, p, s in zip(names, caps, pos, sal, strict=True)
            ],
        )
        for k, dim in enumerate(dims)
    ]
    title = ": ".join(t for t in first[:2] if t) or None
    return ActorFile(path=file, title=title, issues=issues)


def _no_extra(file: str, line: int, row: list[str], width: int) -> None:
    if any(row[width:]):
        raise InputError(file, f"line {line}", f"{len(row)} fields, expected {width}")


def _number(file: str, line: int, field: str, raw: str) -> float:
    if not NUMBER.fullmatch(raw):
        shown = repr(raw) if len(raw) <= 40 else repr(raw[:37] + "...")
        raise InputError(file, f"line {line}, field {field!r}", f"expected a number, got {shown}")
    return bounded(float(raw), file, f"line {line}, field {field!r}")


@dataclass(frozen=True)
class SpatialTable:
    """Actors on several dimensions: the issues of an actor table taken together."""

    path: str
    title: str | None
    dimensions: list[str]
    actors: list[str]
    capability: list[float]
    position: list[list[float]]  # (actors, dims), 0-100
    salience: list[list[float]]  # (actors, dims), 0-100

    def arrays(self) -> SpatialActors:
        """One draw; saliences divided by 100 (KTAB's own scaling)."""
        return SpatialActors.from_table(
            self.capability, self.position, np.asarray(self.salience, dtype=np.float64) / 100.0
        )


def spatial_table(data: ActorFile, issues: list[Issue]) -> SpatialTable:
    """``issues`` as the dimensions of one decision, for the SMP.

    Every actor of the first issue must have a position on every issue and no one else may;
    positions must be on 0-100, and an actor's saliences must sum to at most 100 (the SMP
    reads salience as a share of attention). Actors keep the first issue's order.
    """
    file = data.path
    names = [a.name for a in issues[0].actors]
    position: dict[str, list[float]] = {a: [] for a in names}
    salience: dict[str, list[float]] = {a: [] for a in names}
    capability = {a.name: a.capability for a in issues[0].actors}
    for issue in issues:
        here = {a.name: a for a in issue.actors}
        for name in names:
            if name not in here:
                raise InputError(
                    file,
                    f"issue {issue.id!r}",
                    f"actor {name!r} has no position here; "
                    "the SMP needs every actor on every issue",
                )
        for actor in issue.actors:
            if actor.name not in position:
                raise InputError(
                    file,
                    f"issue {issue.id!r}, actor {actor.name!r}",
                    f"not on issue {issues[0].id!r}; the SMP needs every actor on every issue",
                )
            if not 0.0 <= actor.position <= 100.0:
                raise InputError(
                    file,
                    f"issue {issue.id!r}, actor {actor.name!r}",
                    f"position {actor.position:g}: the SMP needs positions from 0 to 100",
                )
            if actor.capability != capability[actor.name]:
                raise InputError(
                    file,
                    f"issue {issue.id!r}, actor {actor.name!r}",
                    "capability differs from the first issue's; the SMP needs one per actor",
                )
            position[actor.name].append(actor.position)
            salience[actor.name].append(actor.salience)
    for name in names:
        total = 0.0
        for s in salience[name]:
            total = total + s
        if total > 100.0:
            raise InputError(
                file,
                f"actor {name!r}",
                f"saliences sum to {total:g} over the issues; the SMP needs at most 100 "
                "(salience is a share of the actor's attention)",
            )
    return SpatialTable(
        path=file,
        title=data.title,
        dimensions=[i.id for i in issues],
        actors=names,
        capability=[capability[a] for a in names],
        position=[position[a] for a in names],
        salience=[salience[a] for a in names],
    )
