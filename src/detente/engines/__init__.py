"""Collective-decision engines behind one interface (:class:`Engine`)."""

from detente.engines.base import ActorArrays, Engine, EngineResult
from detente.engines.compromise import Compromise
from detente.engines.eum import VARIANTS, ExpectedUtility
from detente.engines.median import Median
from detente.engines.smp import SMPResult, SpatialActors, SpatialPolitics

ENGINE_NAMES: tuple[str, ...] = ("compromise", "median", "eum", "smp")


def make_engine(name: str, **settings: object) -> Engine:
    """The engine called ``name``; ``settings`` go to the expected utility model only."""
    if name == "compromise":
        return Compromise()
    if name == "median":
        return Median()
    if name == "eum":
        return ExpectedUtility(**settings)  # type: ignore[arg-type]
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
    "ExpectedUtility",
    "Median",
    "SMPResult",
    "SpatialActors",
    "SpatialPolitics",
    "make_engine",
]
