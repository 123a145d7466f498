"""Collective-decision engines behind one interface (:class:`Engine`).

The expected utility, exchange and spatial models are imported on first use (PEP 562): a
coercion run with the compromise model, and the command line's start, do not pay for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from detente.engines.base import ActorArrays, Engine, EngineResult
from detente.engines.compromise import Compromise
from detente.engines.median import Median
from detente.extras import lazy_exports

if TYPE_CHECKING:
    from detente.engines.eum import VARIANTS, ExpectedUtility
    from detente.engines.exchange import Exchange, IssueArrays
    from detente.engines.smp import SMPResult, SpatialActors, SpatialPolitics

_LAZY = {
    "VARIANTS": "detente.engines.eum",
    "ExpectedUtility": "detente.engines.eum",
    "Exchange": "detente.engines.exchange",
    "IssueArrays": "detente.engines.exchange",
    "SMPResult": "detente.engines.smp",
    "SpatialActors": "detente.engines.smp",
    "SpatialPolitics": "detente.engines.smp",
}


__getattr__ = lazy_exports(__name__, _LAZY)


#: Every engine by name: ``solve --model``, the DEU backtest and a coercion scenario's ``engine:``
#: (``detente.scenario.coercion.EngineName``, which a test holds to this list) follow it.
ENGINE_NAMES: tuple[str, ...] = ("compromise", "median", "eum", "exchange", "smp")


def make_engine(name: str, **settings: object) -> Engine:
    """The engine called ``name``; ``settings`` go to the expected utility model only.

    ``exchange`` is Stokman's exchange model: on one issue (this interface) it has nothing to
    trade and gives the mean; :meth:`Exchange.solve_issues` runs it on several issues.
    ``smp`` is KTAB's Spatial Model of Politics: this interface runs it on one dimension;
    :meth:`SpatialPolitics.solve_nd` takes several issues as the dimensions of one decision.
    """
    if name == "compromise":
        return Compromise()
    if name == "median":
        return Median()
    if name == "eum":
        from detente.engines.eum import ExpectedUtility

        return ExpectedUtility(**settings)  # type: ignore[arg-type]
    if name == "exchange":
        from detente.engines.exchange import Exchange

        return Exchange()
    if name == "smp":
        from detente.engines.smp import SpatialPolitics

        return SpatialPolitics()
    raise ValueError(f"unknown model {name!r}; expected one of {', '.join(ENGINE_NAMES)}")


__all__ = [
    "ENGINE_NAMES",
    "VARIANTS",
    "ActorArrays",
    "Compromise",
    "Engine",
    "EngineResult",
    "Exchange",
    "ExpectedUtility",
    "IssueArrays",
    "Median",
    "SMPResult",
    "SpatialActors",
    "SpatialPolitics",
    "make_engine",
]
