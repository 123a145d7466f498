"""Run the engines on an actor table and collect labelled results."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from detente.engines import ENGINE_NAMES, EngineResult, make_engine
from detente.engines.base import FloatArray, clip_to_veto, weighted_median
from detente.engines.eum import ExpectedUtility
from detente.engines.exchange import DEFAULT_ROUNDS, Exchange, ExchangeResult, IssueArrays
from detente.engines.smp import SMPResult, SpatialPolitics
from detente.limits import check_actors
from detente.scenario.actors import Issue
from detente.scenario.ktab import SpatialTable

#: Engines that give a forecast per issue (``solve_issues``; the exchange model runs on the
#: issues together but forecasts each); the SMP (``solve_spatial``) takes the issues of a file
#: together, as the dimensions of one decision, and is run only on its own (``--model smp``).
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
class ExchangeForecast:
    """The exchange model run jointly on several issues of one file (a single draw)."""

    issues: list[Issue]
    actors: list[str]
    table: IssueArrays
    result: ExchangeResult

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: forecast and MDS per issue, history per round, executed exchanges.

        Positions and MDS values are on each issue's own scale; ``gain`` is the program's
        (internal 0-100 units).
        """
        ids = [i.id for i in self.issues]
        res = self.result
        present = self.table.present

        def per_issue(v: FloatArray) -> dict[str, float]:
            return {k: float(x) for k, x in zip(ids, v.tolist(), strict=True)}

        history = []
        for r in range(res.rounds):
            pos = res.voting_positions[0, r]
            history.append(
                {
                    "round": r + 1,
                    "mds_start": per_issue(res.mds_start[0, r]),
                    "mds": per_issue(res.mds_voting[0, r]),
                    "positions": {
                        a: {ids[k]: float(pos[i, k]) for k in range(len(ids)) if present[i, k]}
                        for i, a in enumerate(self.actors)
                    },
                }
            )
        step, lower = self.table.step(), self.table.lower
        log = res.exchanges[0]
        exchanges = []
        for row in range(len(log)):

            def col(name: str, row: int = row) -> float:
                return float(log[name][row])

            p, q = int(col("p")), int(col("q"))

            def side(who: str, supply: int, demand: int, row: int = row) -> dict[str, Any]:
                return {
                    "actor": self.actors[int(col(f"{who}_actor", row))],
                    "supplies": ids[supply],
                    "demands": ids[demand],
                    "from": float(col(f"{who}_x", row) / step[supply] + lower[supply]),
                    "to": float(col(f"{who}_y", row) / step[supply] + lower[supply]),
                    "adjusted_by_mds": bool(col(f"{who}_adjusted_by_nbs", row)),
                }

            exchanges.append(
                {
                    "round": int(col("round")),
                    "seq": int(col("seq")),
                    "groups": "a-d" if col("inner_ad") else "b-c",
                    "i": side("i", q, p),
                    "j": side("j", p, q),
                    "gain": col("gain"),
                }
            )
        return {
            "forecast": per_issue(res.forecast[0]),
            "mds_before": per_issue(res.mds_start[0, 0] if res.rounds else res.forecast[0]),
            "rounds": res.rounds,
            "history": history,
            "exchanges": exchanges,
        }


def solve_exchange(
    issues: list[Issue], actor_order: list[str] | None = None, rounds: int = DEFAULT_ROUNDS
) -> ExchangeForecast:
    """Stokman's exchange model on ``issues`` together (pairs of issues are what it trades).

    Veto players bound each issue's forecast, as in every engine (``clip_to_veto``), by their
    voting positions of the last round; the MDS by round is the model's, unbounded.
    """
    table, names = exchange_table(issues, actor_order)
    result = Exchange(rounds=rounds).solve_issues(table)
    row = {a: i for i, a in enumerate(names)}
    veto = np.zeros(table.present.shape, dtype=bool)
    for k, issue in enumerate(issues):
        for actor in issue.actors:
            veto[row[actor.name], k] = actor.veto
    if veto.any():
        last = result.voting_positions[:, -1] if result.rounds else table.position
        forecast = result.forecast.copy()
        for k in np.flatnonzero(veto.any(axis=0)).tolist():
            forecast[:, k] = clip_to_veto(forecast[:, k], last[:, :, k], veto[:, k])
        result = replace(result, forecast=forecast)
    return ExchangeForecast(issues, names, table, result)


def solve_issues(
    issues: list[Issue],
    models: tuple[str, ...] = ISSUE_MODELS,
    eum: ExpectedUtility | None = None,
    actor_order: list[str] | None = None,
    exchange_rounds: int = DEFAULT_ROUNDS,
) -> tuple[list[IssueForecast], ExchangeForecast | None]:
    """Every engine on every issue; the exchange model on all the issues at once.

    Each issue's ``exchange`` result is its forecast from the joint run. An issue with more
    actors than :mod:`detente.limits` allows is refused before any engine runs.
    """
    for issue in issues:
        check_actors(len(issue.actors), file=f"issue {issue.id}")
    single = tuple(m for m in models if m != "exchange")
    forecasts = [solve_issue(i, single, eum) for i in issues]
    if "exchange" not in models:
        return forecasts, None
    joint = solve_exchange(issues, actor_order, exchange_rounds)
    for k, f in enumerate(forecasts):
        f.results["exchange"] = EngineResult(forecast=joint.result.forecast[:, k])
    return forecasts, joint


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
        for actor in issue.actors:
            i = row[actor.name]
            cap[i, k], pos[i, k] = actor.capability, actor.position
            sal[i, k] = actor.salience / 100.0
            present[i, k] = True
        xs = [a.position for a in issue.actors]
        lower[k] = issue.lower if issue.lower is not None else min(0.0, *xs)
        upper[k] = issue.upper if issue.upper is not None else max(100.0, *xs)
    order = tuple(tuple(row[a] for a in issue.names) for issue in issues)
    table = IssueArrays.from_2d(cap, pos, sal, present, lower, upper, order)
    return table, names


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
    """Run the SMP on a table's issues taken as dimensions (within :mod:`detente.limits`)."""
    check_actors(len(table.actors), file=table.path)
    engine = engine or SpatialPolitics()
    return SpatialForecast(table=table, result=engine.solve_nd(table.arrays()))
