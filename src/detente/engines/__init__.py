"""Collective-decision engines behind one interface (:class:`Engine`)."""

from detente.engines.base import ActorArrays, Engine, EngineResult
from detente.engines.compromise import Compromise
from detente.engines.eum import VARIANTS, ExpectedUtility
from detente.engines.exchange import Exchange, IssueArrays
from detente.engines.median import Median

ENGINE_NAMES: tuple[str, ...] = ("compromise", "median", "eum", "exchange")


def make_engine(name: str, **settings: object) -> Engine:
    """The engine called ``name``; ``settings`` go to the expected utility model only.

    ``exchange`` is Stokman's exchange model: on one issue (this interface) it has nothing to
    trade and gives the mean; :meth:`Exchange.solve_issues` runs it on several issues.
    """
    if name == "compromise":
        return Compromise()
    if name == "median":
        return Median()
    if name == "eum":
        return ExpectedUtility(**settings)  # type: ignore[arg-type]
    if name == "exchange":
        return Exchange()
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
    "make_engine",
]
