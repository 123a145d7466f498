"""Collective-decision engines behind one interface (:class:`Engine`)."""

from detente.engines.base import ActorArrays, Engine, EngineResult
from detente.engines.compromise import Compromise
from detente.engines.eum import VARIANTS, ExpectedUtility
from detente.engines.exchange import Exchange, IssueArrays
from detente.engines.median import Median
from detente.engines.smp import SMPResult, SpatialActors, SpatialPolitics

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
        return ExpectedUtility(**settings)  # type: ignore[arg-type]
    if name == "exchange":
        return Exchange()
    if name == "smp":
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
