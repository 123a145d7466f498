"""Run the engines on an actor table and collect labelled results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from detente.engines import ENGINE_NAMES, EngineResult, make_engine
from detente.engines.base import weighted_median
from detente.engines.eum import ExpectedUtility
from detente.engines.exchange import IssueArrays
from detente.scenario.actors import Issue


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
    issue: Issue, models: tuple[str, ...] = ENGINE_NAMES, eum: ExpectedUtility | None = None
) -> IssueForecast:
    """Forecast ``issue`` with each engine in ``models`` (EUM settings from ``eum``)."""
    arrays = issue.arrays()
    results: dict[str, EngineResult] = {}
    for name in models:
        engine = eum if (name == "eum" and eum is not None) else make_engine(name)
        results[name] = engine.solve(arrays)
    return IssueForecast(issue=issue, results=results)


def exchange_table(
    issues: list[Issue], actor_order: list[str] | None = None
) -> tuple[IssueArrays, list[str]]:
    """Several issues of one file as the exchange model's input, and the actors' names.

    Actors come in ``actor_order`` (else by first appearance). An issue's scale is the file's
    (DECIDE's ``#M`` rows) or else 0-100, widened to take in every position.
    """
    names = list(actor_order) if actor_order is not None else []
    seen = set(names)
    for issue in issues:
        for a in issue.names:
            if a not in seen:
                names.append(a)
                seen.add(a)
    row = {a: i for i, a in enumerate(names)}
    n, m = len(names), len(issues)
    cap = np.zeros((n, m))
    pos = np.full((n, m), np.nan)
    sal = np.zeros((n, m))
    present = np.zeros((n, m), dtype=bool)
    lower = np.zeros(m)
    upper = np.full(m, 100.0)
    for k, issue in enumerate(issues):
        for a in issue.actors:
            i = row[a.name]
            cap[i, k], pos[i, k], sal[i, k] = a.capability, a.position, a.salience / 100.0
            present[i, k] = True
        xs = [a.position for a in issue.actors]
        lower[k] = issue.lower if issue.lower is not None else min(0.0, *xs)
        upper[k] = issue.upper if issue.upper is not None else max(100.0, *xs)
    order = tuple(tuple(row[a] for a in issue.names) for issue in issues)
    table = IssueArrays.from_2d(cap, pos, sal, present, lower, upper, order)
    return table, names
