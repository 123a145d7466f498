"""Run the engines on an actor table and collect labelled results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from detente.engines import ENGINE_NAMES, EngineResult, make_engine
from detente.engines.base import weighted_median
from detente.engines.eum import ExpectedUtility
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
