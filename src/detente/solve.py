"""Run the engines on an actor table and collect labelled results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from detente.engines import ENGINE_NAMES, EngineResult, make_engine
from detente.engines.base import weighted_median
from detente.engines.eum import ExpectedUtility
from detente.engines.smp import SMPResult, SpatialPolitics
from detente.scenario.actors import Issue
from detente.scenario.ktab import SpatialTable

#: Engines that forecast each issue on its own; the SMP (``solve_spatial``) takes the issues of
#: a file together, as the dimensions of one decision.
ISSUE_MODELS: tuple[str, ...] = tuple(m for m in ENGINE_NAMES if m != "smp")


@dataclass(frozen=True)
class IssueForecast:
    """Every engine's forecast for one issue (a single draw)."""

    issue: Issue
    results: dict[str, EngineResult] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"issue", "actors", "models": {name: {"forecast", "history"?}}}``."""
        models: dict[str, Any] = {}
        for name, res in self.results.items():
            entry: dict[str, Any] = {"forecast": float(res.forecast[0])}
            if res.history_mean is not None and res.history_positions is not None:
                final = res.history_positions[0, -1]
                entry["rounds"] = res.rounds
                weight = np.broadcast_to(
                    self.issue.arrays().weight(), res.history_positions[0].shape
                )
                entry["history"] = {
                    "mean": res.history_mean[0].tolist(),
                    "median": weighted_median(res.history_positions[0], weight).tolist(),
                    "positions": res.history_positions[0].tolist(),
                }
                entry["final_positions"] = dict(zip(self.issue.names, final.tolist(), strict=True))
            models[name] = entry
        return {
            "issue": self.issue.id,
            "question": self.issue.question,
            "actors": [a.model_dump(exclude_none=True) for a in self.issue.actors],
            "models": models,
        }


def solve_issue(
    issue: Issue, models: tuple[str, ...] = ISSUE_MODELS, eum: ExpectedUtility | None = None
) -> IssueForecast:
    """Forecast ``issue`` with each engine in ``models`` (EUM settings from ``eum``)."""
    arrays = issue.arrays()
    results: dict[str, EngineResult] = {}
    for name in models:
        engine = eum if (name == "eum" and eum is not None) else make_engine(name)
        results[name] = engine.solve(arrays)
    return IssueForecast(issue=issue, results=results)


@dataclass(frozen=True)
class SpatialForecast:
    """The SMP's forecast for the issues of a table taken as dimensions (a single draw)."""

    table: SpatialTable
    result: SMPResult

    def to_dict(self) -> dict[str, Any]:
        """The JSON form. ``models.smp.history[t][i][k]``: actor i's position on dimension k
        after turn t (0-100, turn 0 the input, actors in file order); ``forecast`` the expected
        position per dimension; ``most_probable`` the likeliest distinct final position."""
        res = self.result
        turns = int(res.turns[0])
        final = res.history[0, turns]
        names = self.table.actors
        entry: dict[str, Any] = {
            "forecast": res.expected[0].tolist(),
            "most_probable": res.most_probable[0].tolist(),
            "turns": turns,
            "history": res.history[0, : turns + 1].tolist(),
            "risk": res.risk[0, : turns + 1].tolist(),
            "final_positions": dict(zip(names, final.tolist(), strict=True)),
            "final_probabilities": dict(zip(names, res.actor_probability[0].tolist(), strict=True)),
        }
        return {
            "title": self.table.title,
            "dimensions": self.table.dimensions,
            "actors": [
                {"name": a, "capability": c, "position": p, "salience": s}
                for a, c, p, s in zip(
                    names,
                    self.table.capability,
                    self.table.position,
                    self.table.salience,
                    strict=True,
                )
            ],
            "models": {"smp": entry},
        }


def solve_spatial(table: SpatialTable, engine: SpatialPolitics | None = None) -> SpatialForecast:
    """Run the SMP on a table's issues taken as dimensions."""
    engine = engine or SpatialPolitics()
    return SpatialForecast(table=table, result=engine.solve_nd(table.arrays()))
