"""The DEU data (Decision-making in the European Union) and a backtest of every engine on it.

Layout (``examples/deu/README.md``): tab-separated; a header row; a capability row (columns
``p*``); then one row per issue with positions ``p<actor>`` and saliences ``s<actor>`` on 0-100,
the reference point ``rp`` and the outcome ``out``. An actor takes part in an issue when it has
both a position and a salience there.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from detente.engines import ENGINE_NAMES, ActorArrays, Engine, make_engine
from detente.engines.base import FloatArray
from detente.engines.exchange import Exchange, IssueArrays
from detente.errors import InputError
from detente.scenario.yamlio import read_text

Capability = Literal["gdp", "equal"]


@dataclass(frozen=True)
class DeuIssue:
    """One issue: who took part, where they stood, how much they cared, and what happened."""

    id: str
    actors: list[str]
    capability: FloatArray
    position: FloatArray
    salience: FloatArray  # 0-100
    reference_point: float  # NaN where the file has none
    commission: float  # NaN where the Commission took no position
    outcome: float
    proposal: str = ""  # the legislative proposal (``prnr``) the issue belongs to


@dataclass(frozen=True)
class DeuData:
    path: str
    actors: list[str]
    issues: list[DeuIssue]


def _number(file: str, line: int, column: str, raw: str) -> float:
    raw = raw.strip()
    if raw == "":
        return math.nan
    try:
        value = float(raw)
    except ValueError:
        raise InputError(
            file, f"row {line}, field '{column}'", f"expected a number, got {raw!r}"
        ) from None
    if not math.isfinite(value):
        raise InputError(file, f"row {line}, field '{column}'", f"expected a number, got {raw!r}")
    return value


def read_deu(path: str | Path, capability: Capability = "gdp") -> DeuData:
    """Read a DEU file; ``capability`` is the file's capability row or 1 for every actor."""
    p = Path(path)
    file = str(p)
    rows = list(csv.reader(io.StringIO(read_text(p)), delimiter="\t"))
    if len(rows) < 3:
        raise InputError(file, None, "expected a header row, a capability row and issue rows")
    header = [h.strip() for h in rows[0]]
    for col in ("out", "rp", "pcom", "scom"):
        if col not in header:
            raise InputError(file, "header", f"missing column '{col}' (not the DEU layout)")
    actors = [h[1:] for h in header if h.startswith("p") and "s" + h[1:] in header]
    pcol = [header.index("p" + a) for a in actors]
    scol = [header.index("s" + a) for a in actors]
    cap_row = rows[1] + [""] * (len(header) - len(rows[1]))
    if capability == "gdp":
        cap = np.array(
            [_number(file, 2, "p" + a, cap_row[i]) for a, i in zip(actors, pcol, strict=True)]
        )
        if np.isnan(cap).any() or (cap < 0).any():
            bad = actors[int(np.argmax(np.isnan(cap) | (cap < 0)))]
            raise InputError(file, f"row 2, field 'p{bad}'", "expected a capability of 0 or more")
    else:
        cap = np.ones(len(actors))
    issues = []
    id_cols = [header.index(c) for c in ("prnr", "isnr") if c in header]
    for line, row in enumerate(rows[2:], start=3):
        if not any(c.strip() for c in row):
            continue
        row = row + [""] * (len(header) - len(row))
        out = _number(file, line, "out", row[header.index("out")])
        if math.isnan(out):
            continue
        pos = np.array(
            [_number(file, line, "p" + a, row[i]) for a, i in zip(actors, pcol, strict=True)]
        )
        sal = np.array(
            [_number(file, line, "s" + a, row[i]) for a, i in zip(actors, scol, strict=True)]
        )
        out_of_range = (sal < 0) | (sal > 100)
        if out_of_range.any():
            col = "s" + actors[int(np.argmax(out_of_range))]
            raise InputError(
                file, f"row {line}, field '{col}'", "expected a salience from 0 to 100"
            )
        take = ~np.isnan(pos) & ~np.isnan(sal)
        if not take.any():
            continue
        issue_id = "/".join(row[i].strip() for i in id_cols) or f"row{line}"
        issues.append(
            DeuIssue(
                id=issue_id,
                actors=[a for a, t in zip(actors, take, strict=True) if t],
                capability=cap[take],
                position=pos[take],
                salience=sal[take],
                reference_point=_number(file, line, "rp", row[header.index("rp")]),
                commission=pos[actors.index("com")] if "com" in actors else math.nan,
                outcome=out,
                proposal=row[header.index("prnr")].strip() if "prnr" in header else issue_id,
            )
        )
    if not issues:
        raise InputError(file, None, "no issue with an outcome and at least one actor")
    return DeuData(path=file, actors=actors, issues=issues)


@dataclass(frozen=True)
class Score:
    """Absolute errors of one forecaster over the issues it could forecast."""

    n: int
    mae: float
    median_ae: float

    @classmethod
    def of(cls, forecast: FloatArray, outcome: FloatArray) -> Score:
        ok = ~np.isnan(forecast)
        err = np.abs(forecast[ok] - outcome[ok])
        if err.size == 0:
            return cls(0, math.nan, math.nan)
        return cls(int(err.size), float(err.mean()), float(np.median(err)))

    def to_dict(self) -> dict[str, float | int]:
        return {"n": self.n, "mae": self.mae, "median_ae": self.median_ae}


def forecast_issues(data: DeuData, engine: Engine) -> FloatArray:
    """One engine's forecast for every issue.

    Issues with the same number of actors are stacked on the draw axis and solved in one call:
    draws never interact inside an engine, so this gives the numbers of one call per issue.
    """
    out = np.empty(len(data.issues))
    sizes = np.array([len(i.actors) for i in data.issues])
    for n in np.unique(sizes):
        idx = np.flatnonzero(sizes == n)
        group = [data.issues[k] for k in idx]
        arrays = ActorArrays(
            capability=np.stack([i.capability for i in group]),
            position=np.stack([i.position for i in group]),
            salience=np.stack([i.salience for i in group]) / 100.0,
        )
        out[idx] = engine.solve(arrays).forecast
    return out


def forecast_exchange(data: DeuData) -> FloatArray:
    """The exchange model's forecast for every issue, run on each proposal's issues together.

    The model trades positions between issues of one decision, so the issues of a proposal (its
    ``prnr``) form one run, with every actor that takes part in any of them; an actor is
    present only on the issues where it has a position and a salience. A proposal with a single
    issue has nothing to trade: its forecast is the mean (:meth:`Exchange.solve`).
    """
    out = np.empty(len(data.issues))
    groups: dict[str, list[int]] = {}
    for k, issue in enumerate(data.issues):
        groups.setdefault(issue.proposal or issue.id, []).append(k)
    engine = Exchange()
    for members in groups.values():
        issues = [data.issues[k] for k in members]
        names = [a for a in data.actors if any(a in i.actors for i in issues)]
        row = {a: i for i, a in enumerate(names)}
        shape = (len(names), len(issues))
        cap, pos, sal = np.zeros(shape), np.full(shape, np.nan), np.zeros(shape)
        present = np.zeros(shape, dtype=bool)
        for j, issue in enumerate(issues):
            at = [row[a] for a in issue.actors]
            cap[at, j], pos[at, j], sal[at, j] = issue.capability, issue.position, issue.salience
            present[at, j] = True
        # the DEU scale is 0-100; widened should a position lie outside it
        lower = np.minimum(0.0, np.nanmin(pos, axis=0))
        upper = np.maximum(100.0, np.nanmax(pos, axis=0))
        table = IssueArrays.from_2d(cap, pos, sal / 100.0, present, lower, upper)
        out[members] = engine.solve_issues(table).forecast[0]
    return out


def backtest_deu(
    data: DeuData,
    models: tuple[str, ...] = ENGINE_NAMES,
    progress: Callable[[int], None] | None = None,
    **eum_settings: object,
) -> dict[str, object]:
    """Score every engine and two naive forecasts against the outcomes.

    Naive forecasts: the reference point (the status quo; only issues that have one) and the
    Commission's position (only issues where it took one).
    """
    outcome = np.array([i.outcome for i in data.issues])
    scores = {}
    for name in models:
        engine = make_engine(name, **eum_settings) if name == "eum" else make_engine(name)
        forecast = forecast_exchange(data) if name == "exchange" else forecast_issues(data, engine)
        scores[name] = Score.of(forecast, outcome).to_dict()
        if progress:
            progress(1)
    baselines = {
        "reference_point": Score.of(np.array([i.reference_point for i in data.issues]), outcome),
        "commission": Score.of(np.array([i.commission for i in data.issues]), outcome),
    }
    return {
        "file": data.path,
        "n_issues": len(data.issues),
        "models": scores,
        "baselines": {k: v.to_dict() for k, v in baselines.items()},
    }
