"""Uncertain parameters: a point value or a distribution, always with a source or an assumption.

In a scenario file every number is a mapping::

    salience: {value: 95, source: "the central component of his political appeal"}
    salience: {uniform: [85, 100], assumption: "salience of the question to the leader"}
    trust:    {triangular: [0.05, 0.1, 0.3], source: "..."}
    exposure: {normal: [0.5, 0.1], assumption: "..."}        # mean, sd; clipped to the range
    aim:      {beta: [8, 2], assumption: "..."}               # a, b; on [0, 1]

Sampling is reproducible and independent of the order of parameters: each parameter's stream is
seeded by the run seed and a hash of its path in the file, so adding a parameter never changes the
draws of another.
"""

from __future__ import annotations

import datetime
import math
import re
import zlib
from collections.abc import Callable
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, model_validator

from detente.engines.base import FloatArray
from detente.scenario.limits import MAX_MAGNITUDE, MIN_MAGNITUDE, tiny

#: A month as YYYY-MM, in ASCII digits (``\d`` would also take full-width digits).
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
_MONTH_RE = re.compile(MONTH_PATTERN, re.ASCII)
_KINDS = ("value", "uniform", "normal", "triangular", "beta")


def date_as_month(v: object) -> object:
    """A YAML date (``start: 2020-08-09``) is read as its month, ``2020-08``."""
    if isinstance(v, datetime.date):
        return f"{v.year:04d}-{v.month:02d}"
    return v


#: A number as written: an int or a float, never a string or a bool (no silent coercion).
Number = Annotated[float, Strict()]


class Param(BaseModel):
    """One number of a scenario: a point or a distribution, with its source or an assumption."""

    model_config = ConfigDict(extra="forbid")

    value: Number | None = Field(default=None, allow_inf_nan=False)
    uniform: tuple[Number, Number] | None = None
    normal: tuple[Number, Number] | None = None
    triangular: tuple[Number, Number, Number] | None = None
    beta: tuple[Number, Number] | None = None
    source: str | None = Field(default=None, min_length=1)
    assumption: str | None = Field(default=None, min_length=1)
    #: The month by which the source had said it (YYYY-MM): an as-of run refuses later values.
    dated: Annotated[str | None, BeforeValidator(date_as_month)] = None
    #: The range believed, for a point value marked as an assumption (priors of a fit).
    range: tuple[Number, Number] | None = None

    @model_validator(mode="after")
    def _one_kind_and_provenance(self) -> Param:
        given = [k for k in _KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(_KINDS)} (got {len(given)})")
        if self.source is None and self.assumption is None:
            raise ValueError("every number needs a 'source' or an 'assumption'")
        if self.range is not None and not (
            all(math.isfinite(a) for a in self.range) and self.range[0] < self.range[1]
        ):
            raise ValueError("range: [low, high] needs finite numbers with low < high")
        if self.dated is not None and not _MONTH_RE.match(self.dated):
            raise ValueError(f"dated: expected a month as YYYY-MM, got {self.dated!r}")
        for name in _KINDS[1:]:
            args = getattr(self, name)
            if args is not None and not all(math.isfinite(a) for a in args):
                raise ValueError(f"{name}: parameters must be finite numbers")
        for name in (*_KINDS, "range"):
            args = getattr(self, name)
            numbers = (args,) if isinstance(args, float) else (args or ())
            if any(abs(a) > MAX_MAGNITUDE for a in numbers):
                raise ValueError(
                    f"{name}: numbers must lie within +-{MAX_MAGNITUDE:g} (larger ones overflow"
                    " in the engines' sums)"
                )
            if any(tiny(a) for a in numbers):
                raise ValueError(
                    f"{name}: numbers must be 0 or at least {MIN_MAGNITUDE:g} in size (smaller"
                    " ones underflow in the engines' products)"
                )
        if self.uniform is not None and not self.uniform[0] < self.uniform[1]:
            raise ValueError("uniform: [low, high] needs low < high")
        if self.normal is not None and not self.normal[1] > 0:
            raise ValueError("normal: [mean, sd] needs sd > 0")
        if self.triangular is not None:
            lo, mode, hi = self.triangular
            if not (lo <= mode <= hi and lo < hi):
                raise ValueError(
                    "triangular: [low, mode, high] needs low <= mode <= high, low < high"
                )
        if self.beta is not None and not (self.beta[0] > 0 and self.beta[1] > 0):
            raise ValueError("beta: [a, b] needs a > 0 and b > 0")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in _KINDS if getattr(self, k) is not None)

    @property
    def is_uncertain(self) -> bool:
        return self.value is None

    def support(self) -> tuple[float, float]:
        """The interval of values the parameter can take (the normal's is unbounded)."""
        if self.value is not None:
            return (self.value, self.value)
        if self.uniform is not None:
            return self.uniform
        if self.triangular is not None:
            return (self.triangular[0], self.triangular[2])
        if self.beta is not None:
            return (0.0, 1.0)
        return (-math.inf, math.inf)

    def center(self) -> float:
        """A representative value: the point, or the distribution's mean."""
        if self.value is not None:
            return self.value
        if self.uniform is not None:
            return (self.uniform[0] + self.uniform[1]) / 2
        if self.normal is not None:
            return self.normal[0]
        if self.triangular is not None:
            return sum(self.triangular) / 3
        assert self.beta is not None
        return self.beta[0] / (self.beta[0] + self.beta[1])

    def sample(
        self, stream: Callable[[], np.random.Generator], n: int, bounds: tuple[float, float]
    ) -> FloatArray:
        """n draws from the random stream ``stream()`` makes, made only for a distribution (a
        point value draws nothing); a normal is clipped to ``bounds`` (the allowed range)."""
        if self.value is not None:
            return np.full(n, self.value)
        rng = stream()
        if self.uniform is not None:
            return rng.uniform(self.uniform[0], self.uniform[1], n)
        if self.triangular is not None:
            lo, mode, hi = self.triangular
            return rng.triangular(lo, mode, hi, n)
        if self.beta is not None:
            return rng.beta(self.beta[0], self.beta[1], n)
        assert self.normal is not None
        return np.clip(rng.normal(self.normal[0], self.normal[1], n), bounds[0], bounds[1])

    def quantile(self, u: FloatArray, bounds: tuple[float, float]) -> FloatArray:
        """The values at quantiles ``u`` in [0, 1] (the inverse CDF), for sensitivity analysis.

        A normal's tails are clipped to ``bounds``, as in :meth:`sample`.
        """
        from scipy import stats  # heavy: only sensitivity analysis needs quantiles

        u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
        if self.value is not None:
            return np.full(u.shape, self.value)
        if self.uniform is not None:
            return self.uniform[0] + u * (self.uniform[1] - self.uniform[0])
        if self.triangular is not None:
            lo, mode, hi = self.triangular
            c = (mode - lo) / (hi - lo)
            return np.asarray(stats.triang.ppf(u, c, loc=lo, scale=hi - lo))
        if self.beta is not None:
            return np.asarray(stats.beta.ppf(u, self.beta[0], self.beta[1]))
        assert self.normal is not None
        x = stats.norm.ppf(u, self.normal[0], self.normal[1])
        return np.asarray(np.clip(x, bounds[0], bounds[1]))

    def describe(self) -> str:
        """Short text of the value, e.g. ``0.4`` or ``uniform(0.3, 0.6)``."""
        if self.value is not None:
            return f"{self.value:g}"
        args: Any = getattr(self, self.kind)
        return f"{self.kind}({', '.join(f'{a:g}' for a in args)})"


def path_rng(seed: int, path: str) -> np.random.Generator:
    """The random stream of one parameter: seeded by the run seed and the parameter's path."""
    key = zlib.crc32(path.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(key,)))
