"""The one interface every collective-decision engine shares.

Arrays in, a result object out, in the spirit of scikit-learn: an engine's ``__init__`` only
stores its settings; :meth:`Engine.solve` does the work on arrays with a leading draw axis,
``(draws, actors)``. The cores assume valid input (finite numbers, capability >= 0, salience in
[0, 1], at least one actor); users' files are checked in :mod:`detente.scenario`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from numbers import Integral
from typing import Any, ClassVar

import numpy as np

# numpy.typing's NDArray[T] spelled out: importing numpy.typing costs a command's start-up more
# than this module's whole body
FloatArray = np.ndarray[tuple[Any, ...], np.dtype[np.float64]]
BoolArray = np.ndarray[tuple[Any, ...], np.dtype[np.bool_]]
Float32Array = np.ndarray[tuple[Any, ...], np.dtype[np.float32]]

#: Relative tolerance under which two cumulative weights count as equal (weighted median).
_TIE_RTOL = 1e-12


class DrawsAndActors:
    """The sizes of an actor table with a leading draw axis: ``position`` is ``(draws, actors,
    ...)`` in every table of this package."""

    position: FloatArray

    @property
    def n_draws(self) -> int:
        return int(self.position.shape[0])

    @property
    def n_actors(self) -> int:
        return int(self.position.shape[1])


@dataclass(frozen=True)
class ActorArrays(DrawsAndActors):
    """The actors of one decision, as arrays of shape ``(draws, actors)``.

    ``salience`` is on the 0-1 scale (a file's 0-100 divided by 100). ``risk`` is Bueno de
    Mesquita's risk attitude R in [-1, 1] where an actor's is fixed, NaN where the model computes
    it. ``veto`` marks veto players (same for every draw, shape ``(actors,)``).
    """

    capability: FloatArray
    position: FloatArray
    salience: FloatArray
    risk: FloatArray | None = None
    veto: BoolArray | None = None

    @classmethod
    def from_1d(
        cls,
        capability: object,
        position: object,
        salience: object,
        risk: object | None = None,
        veto: object | None = None,
    ) -> ActorArrays:
        """Build a single-draw table (``draws = 1``) from plain sequences."""

        def row(a: object) -> FloatArray:
            return np.atleast_2d(np.asarray(a, dtype=np.float64))

        return cls(
            capability=row(capability),
            position=row(position),
            salience=row(salience),
            risk=None if risk is None else row(risk),
            veto=None if veto is None else np.asarray(veto, dtype=bool),
        )

    def weight(self) -> FloatArray:
        """Capability x salience, the weight of each actor in every engine here."""
        return self.capability * self.salience

    def take(self, draws: slice) -> ActorArrays:
        """The same actors for a slice of the draw axis."""
        return ActorArrays(
            capability=self.capability[draws],
            position=self.position[draws],
            salience=self.salience[draws],
            risk=None if self.risk is None else self.risk[draws],
            veto=self.veto,
        )


@dataclass(frozen=True)
class EngineResult:
    """What an engine returns.

    ``forecast`` has shape ``(draws,)``. Iterative engines also give, by round (round 0 is the
    input), ``history_positions`` ``(draws, rounds + 1, actors)`` and ``history_mean``
    ``(draws, rounds + 1)``, the capability x salience weighted mean of positions after each round.
    """

    forecast: FloatArray
    history_positions: FloatArray | None = None
    history_mean: FloatArray | None = None

    @property
    def rounds(self) -> int:
        return 0 if self.history_mean is None else int(self.history_mean.shape[1]) - 1


class Engine(ABC):
    """A collective-decision engine: actors in, forecast out."""

    name: ClassVar[str]

    @abstractmethod
    def solve(self, actors: ActorArrays) -> EngineResult:
        """Forecast the outcome for every draw of ``actors``."""


def effective_weight(weight: FloatArray) -> FloatArray:
    """Weights with an all-zero row replaced by equal weights.

    When no actor has both capability and salience, no one pulls the outcome; the plain mean (or
    median) of positions is then the forecast, rather than an undefined 0/0.
    """
    total = weight.sum(axis=-1, keepdims=True)
    return np.where(total > 0, weight, 1.0)


def weighted_mean(position: FloatArray, weight: FloatArray) -> FloatArray:
    """Weighted mean over the last axis: sum_k w_k x_k / sum_k w_k.

    A convex combination, so it is clipped to [min x, max x] to remove rounding (one actor then
    gives exactly its own position).
    """
    w = effective_weight(weight)
    mean = (w * position).sum(axis=-1) / w.sum(axis=-1)
    return np.asarray(np.clip(mean, position.min(axis=-1), position.max(axis=-1)))


def weighted_median(position: FloatArray, weight: FloatArray) -> FloatArray:
    """Weighted median over the last axis.

    The lower median is the smallest position whose cumulative weight reaches half the total; the
    upper median the smallest whose cumulative weight passes it. They differ only when some
    position's cumulative weight is exactly half (within a relative 1e-12, so that the answer does
    not depend on the order of summation); the median is then their midpoint. In one dimension
    with single-peaked preferences this is the position that beats every other in pairwise votes
    (Black's median voter theorem).
    """
    w = effective_weight(weight)
    order = np.argsort(position, axis=-1, kind="stable")
    xs = np.take_along_axis(position, order, axis=-1)
    cum = np.cumsum(np.take_along_axis(w, order, axis=-1), axis=-1)
    half = cum[..., -1:] / 2.0
    tol = _TIE_RTOL * cum[..., -1:]
    lower = np.argmax(cum >= half - tol, axis=-1)
    upper = np.argmax(cum > half + tol, axis=-1)
    lo = np.take_along_axis(xs, lower[..., None], axis=-1)[..., 0]
    hi = np.take_along_axis(xs, upper[..., None], axis=-1)[..., 0]
    return np.asarray((lo + hi) / 2.0)


def clip_to_veto(forecast: FloatArray, position: FloatArray, veto: BoolArray | None) -> FloatArray:
    """Keep a forecast inside the interval spanned by the veto players' positions.

    A veto player blocks any outcome that all veto players would not accept; with positions on a
    line, the outcomes no veto player can improve on without hurting another are those between the
    lowest and the highest veto position (the unanimity core of the veto players). With one veto
    player the outcome is that player's position. Without veto players the forecast is unchanged.
    """
    if veto is None or not veto.any():
        return forecast
    vpos = position[:, veto]
    return np.asarray(np.clip(forecast, vpos.min(axis=-1), vpos.max(axis=-1)))


def check_count(owner: str, name: str, value: object, low: int, high: int | None = None) -> None:
    """An engine's whole-number option (rounds, turns) inside [low, high]: out of range or of
    another kind it would give numbers without meaning, so it is a ValueError naming it."""
    if (
        isinstance(value, bool)
        or not isinstance(value, Integral)
        or not (low <= int(value) and (high is None or int(value) <= high))
    ):
        span = f"{low} or more" if high is None else f"{low}-{high}"
        raise ValueError(f"{owner}: {name} = {value!r}, expected a whole number {span}")
