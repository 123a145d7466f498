"""Fitting the choice's global coefficients to a coded case library (``detente fit``).

The likelihood of a case is that of its observed first talks under the model's monthly hazards,
as a forecaster standing at the end of the start month would have computed it (events announced
later unseen, offers to come drawn by the model), averaged over the case's parameter draws:

    L_i(theta) = sum_d [F_d(m_i) - F_d(m_i - 1)] / sum_d S_d(0)      first talks in month m_i
    L_i(theta) = sum_d S_d(H_i) / sum_d S_d(0)                       no talks by the horizon H_i

F the cumulative probability that the observed channel (direct: public or secret; or mediated)
is the first to open, S the probability that none has; the sums over draws d are the survival-
weighted average of ``forecast.py``. The fitted coefficients are those of the choice
(:data:`FIT_NAMES`: the leader's weights, the channel and sender coefficients); those of the
dynamics (tau_*, rally_*, ...) keep their a-priori values, because when talks opened says little
about how fast pain follows pressure. The estimate is the posterior mode under weakly informative
priors: each coefficient, on the log scale (weights) or the logit scale (shares), is normal around
its a-priori value with the documented range as +-2 standard deviations. Intervals are Laplace's
(the inverse Hessian of the negative log posterior at the mode).

Because the dynamics do not depend on the fitted coefficients, each case's state is simulated
once (:func:`prepare`) and every evaluation reruns only the choice, for all perturbed
coefficient vectors at once along the draw axis.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
from scipy import optimize

from detente.dynamics.coefficients import Coefficients
from detente.dynamics.inputs import CaseInputs
from detente.dynamics.simulate import State, choose_month_major, month_major, simulate_state
from detente.engines.base import FloatArray
from detente.forecast import as_of_index, make_stance_engine
from detente.history.cases import talks_index
from detente.scenario.coercion import Scenario
from detente.scenario.params import Param
from detente.scenario.sample import build_case, build_coefficients, draw_params

#: The coefficients a fit estimates (the rest keep their a-priori values).
FIT_NAMES: tuple[str, ...] = (
    "w_relief",
    "w_instability",
    "w_legitimacy",
    "w_legacy",
    "w_elite",
    "w_rally",
    "w_concession",
    "w_own",
    "w_duress",
    "pain_scale",
    "opportunity_base",
    "offer_rate",
    "mediation_rate",
    "channel_open",
    "secrecy_discount",
)
#: Shares (fitted on the logit scale); the others are positive (fitted on the log scale).
_SHARES = frozenset(
    {"opportunity_base", "offer_rate", "mediation_rate", "channel_open", "secrecy_discount"}
)
DEFAULT_FIT_DRAWS = 100
_STEP = 1e-4


@dataclass(frozen=True)
class CaseData:
    """One case ready for the likelihood: its state (simulated once), inputs, the draws of the
    coefficients that are not fitted, and what happened (``kind`` at month index ``month``)."""

    id: str
    state: State
    inputs: CaseInputs
    base: dict[str, FloatArray]
    kind: str  # "direct", "mediated" or "censored"
    month: int


def observed(scn: Scenario) -> tuple[str, int] | None:
    """What a case's record says for the likelihood: ("direct" | "mediated", month index) for
    first talks within its horizon, ("censored", horizon) otherwise; None when talks were under
    way in the start month (nothing to learn as of its end)."""
    horizon = scn.horizon
    m = talks_index(scn)
    if m is None or m > horizon:
        return ("censored", horizon)
    if m <= 0:
        return None
    assert scn.outcome is not None  # talks_index has checked
    return ("direct" if scn.outcome.kind == "direct" else "mediated", m)


def prepare(
    library: Sequence[Scenario],
    base: dict[str, Param],
    draws: int = DEFAULT_FIT_DRAWS,
    seed: int = 1,
) -> list[CaseData]:
    """Draw each case's parameters (with the ``base`` coefficients for those not fitted) and
    simulate its state from the start to its horizon, as of the start."""
    out = []
    for scn in library:
        seen = observed(scn)
        if seen is None:
            continue
        as_of_index(scn, None)  # as of the start: no number dated after it
        v = draw_params(scn, draws, seed, coefficients=base)
        inputs = build_case(scn, v, scn.horizon + 1, 0)
        state = simulate_state(inputs, build_coefficients(v), make_stance_engine(scn))
        coef = {n: v[f"coefficients.{n}"] for n in Coefficients.names()}
        out.append(CaseData(scn.id, state, inputs, coef, seen[0], seen[1]))
    return out


def to_scale(name: str, value: FloatArray | float) -> FloatArray:
    """The fitting scale: log for weights, logit for shares."""
    x = np.asarray(value, dtype=np.float64)
    if name in _SHARES:
        return np.asarray(np.log(x / (1.0 - x)))
    return np.asarray(np.log(x))


def from_scale(name: str, z: FloatArray | float) -> FloatArray:
    x = np.asarray(z, dtype=np.float64)
    if name in _SHARES:
        return np.asarray(1.0 / (1.0 + np.exp(-x)))
    return np.asarray(np.exp(x))


#: The inputs :func:`~detente.dynamics.simulate.choose` reads (the batch stacks only these).
_CHOICE_INPUTS = (
    "openness",
    "sender_cost",
    "election_gap",
    "offer",
    "mediator",
    "standing",
    "successor_hazard",
    "successor_legitimacy",
    "successor_legacy",
    "successor_position",
    "successor_salience",
    "legitimacy_of_talks",
    "legacy_weight",
    "regime_change_belief",
    "demand_scope",
)


def _pad(a: FloatArray, months: int) -> FloatArray:
    """Extend the month axis (axis 1) to ``months`` by repeating the last month."""
    if a.shape[1] >= months:
        return a
    widths = [(0, 0)] * a.ndim
    widths[1] = (0, months - a.shape[1])
    return np.asarray(np.pad(a, widths, mode="edge"))


@dataclass
class Batch:
    """All cases stacked along the draw axis (months padded to the longest), so that one run of
    the choice evaluates every case for many coefficient vectors at once."""

    ids: list[str]
    kinds: list[str]
    months: list[int]
    rows: list[tuple[int, int]]
    state: State
    inputs: CaseInputs
    base: dict[str, FloatArray]
    _tiled: dict[int, tuple[dict[str, FloatArray], CaseInputs]] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def of(cls, cases: Sequence[CaseData]) -> Batch:
        months = max(c.state.series["pain"].shape[1] for c in cases)
        rows, at = [], 0
        for c in cases:
            n = c.state.series["pain"].shape[0]
            rows.append((at, at + n))
            at += n
        series = {
            k: np.concatenate([_pad(c.state.series[k], months) for c in cases])
            for k in cases[0].state.series
        }
        empty3 = np.empty((at, 0, 0))
        state = State(series=series, position=empty3, salience=empty3, capability=empty3)
        data: dict[str, object] = {}
        for f in fields(CaseInputs):
            if f.name in _CHOICE_INPUTS:
                parts = [getattr(c.inputs, f.name) for c in cases]
                if parts[0].ndim >= 2:
                    parts = [_pad(p, months) for p in parts]
                data[f.name] = np.concatenate(parts)
            elif f.name == "drawn_from":
                data[f.name] = cases[0].inputs.drawn_from  # 1 for all: fits are as of the start
            elif f.name == "leader":
                data[f.name] = 0
            else:
                data[f.name] = np.empty((at, 0))  # not read by the choice
        inputs = CaseInputs(**data)  # type: ignore[arg-type]
        base = {n: np.concatenate([c.base[n] for c in cases]) for n in Coefficients.names()}
        return cls(
            ids=[c.id for c in cases],
            kinds=[c.kind for c in cases],
            months=[c.month for c in cases],
            rows=rows,
            state=state,
            inputs=inputs,
            base=base,
        )

    def tiled(self, k: int) -> tuple[dict[str, FloatArray], CaseInputs]:
        """The batch repeated ``k`` times, month-major (cached for the last ``k``)."""
        if k not in self._tiled:
            inputs = self.inputs.tile(k)
            self._tiled = {k: (month_major(self.state.tile(k), inputs), inputs)}
        return self._tiled[k]


def batch_log_likelihood(batch: Batch, theta: FloatArray) -> FloatArray:
    """log L of every case ``(K, cases)`` for each row of ``theta`` ``(K, len(FIT_NAMES))``."""
    k = theta.shape[0]
    n = len(next(iter(batch.base.values())))
    arrays = {}
    for name in Coefficients.names():
        if name in FIT_NAMES:
            arrays[name] = np.repeat(theta[:, FIT_NAMES.index(name)], n)
        else:
            arrays[name] = np.tile(batch.base[name], k)
    month_rows, inputs = batch.tiled(k)
    series = choose_month_major(month_rows, inputs, Coefficients(**arrays))
    survival = series["survival"].reshape(-1, k, n)
    out = np.empty((k, len(batch.ids)))
    for j, ((a, b), kind, m) in enumerate(zip(batch.rows, batch.kinds, batch.months, strict=True)):
        alive = survival[0, :, a:b].sum(axis=1)
        if kind == "censored":
            num = survival[m, :, a:b].sum(axis=1)
        else:
            f = series["p_talks" if kind == "direct" else "p_mediated"].reshape(-1, k, n)
            num = (f[m, :, a:b] - f[m - 1, :, a:b]).sum(axis=1)
        ratio = np.divide(num, alive, out=np.zeros(k), where=alive > 0)
        out[:, j] = np.log(np.maximum(ratio, 1e-12))
    return out


@dataclass(frozen=True)
class Prior:
    """Normal priors on the fitting scale: mean at the a-priori value, sd a quarter of the
    documented range's width there."""

    mean: FloatArray
    sd: FloatArray

    @classmethod
    def from_params(cls, apriori: dict[str, Param]) -> Prior:
        mean, sd = [], []
        for name in FIT_NAMES:
            p = apriori[name]
            lo, hi = p.range if p.range is not None else p.support()
            if name not in _SHARES and lo <= 0:
                lo = p.center() / 4.0  # a weight's range from 0: the log scale needs a floor
            if name in _SHARES:
                lo, hi = max(lo, 1e-3), min(hi, 1 - 1e-3)
            mean.append(float(to_scale(name, p.center())))
            sd.append(float(to_scale(name, hi) - to_scale(name, lo)) / 4.0)
        return cls(np.array(mean), np.array(sd))

    def log_density(self, z: FloatArray) -> FloatArray:
        """Up to a constant, for each row of ``z`` ``(K, P)``."""
        return np.asarray(-0.5 * (((z - self.mean) / self.sd) ** 2).sum(axis=-1))


def _theta(z: FloatArray) -> FloatArray:
    return np.stack([from_scale(n, z[..., j]) for j, n in enumerate(FIT_NAMES)], axis=-1)


def log_posterior_batch(
    batch: Batch, prior: Prior, z: FloatArray, keep: FloatArray | None = None
) -> FloatArray:
    """log p(theta | cases) up to a constant, for each row of ``z`` (the fitting scale);
    ``keep`` (0/1 per case) leaves cases out (leave-one-out refits)."""
    ll = batch_log_likelihood(batch, _theta(z))
    weights = np.ones(ll.shape[1]) if keep is None else keep
    return np.asarray(prior.log_density(z) + ll @ weights)


def _objective(
    batch: Batch, prior: Prior, keep: FloatArray | None = None
) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    """The negative log posterior and its gradient by forward differences, in one batch."""

    def f(z: FloatArray) -> tuple[float, FloatArray]:
        p = len(z)
        values = log_posterior_batch(batch, prior, np.vstack([z, z + _STEP * np.eye(p)]), keep)
        return -float(values[0]), -(values[1:] - values[0]) / _STEP

    return f


@dataclass(frozen=True)
class FitResult:
    """The posterior mode, its Laplace 90% intervals, and what it was fitted on."""

    values: dict[str, float]
    lo: dict[str, float]
    hi: dict[str, float]
    z: FloatArray
    log_posterior: float
    case_ids: list[str]
    iterations: int
    converged: bool
    apriori: dict[str, float] = field(default_factory=dict)


def fit(
    batch: Batch,
    apriori: dict[str, Param],
    start: FloatArray | None = None,
    intervals: bool = True,
    max_iter: int = 200,
    leave_out: int | None = None,
    keep: FloatArray | None = None,
) -> FitResult:
    """The posterior mode of :data:`FIT_NAMES` given the cases of ``batch`` (L-BFGS-B on the
    fitting scale, from ``start`` or the prior's mean), without case ``leave_out`` if given, and
    only the cases ``keep`` marks with 1 if given."""
    prior = Prior.from_params(apriori)
    keep = np.ones(len(batch.ids)) if keep is None else np.array(keep, dtype=np.float64)
    if leave_out is not None:
        keep[leave_out] = 0.0
    z0 = prior.mean.copy() if start is None else np.asarray(start, dtype=np.float64)
    res = optimize.minimize(
        _objective(batch, prior, keep),
        z0,
        jac=True,
        method="L-BFGS-B",
        bounds=[(m - 6 * s, m + 6 * s) for m, s in zip(prior.mean, prior.sd, strict=True)],
        options={"maxiter": max_iter, "gtol": 1e-5},
    )
    z = np.asarray(res.x, dtype=np.float64)
    sd = _laplace_sd(batch, prior, z, keep) if intervals else np.full(len(z), np.nan)
    values = {n: float(from_scale(n, z[j])) for j, n in enumerate(FIT_NAMES)}
    lo = {n: float(from_scale(n, z[j] - 1.645 * sd[j])) for j, n in enumerate(FIT_NAMES)}
    hi = {n: float(from_scale(n, z[j] + 1.645 * sd[j])) for j, n in enumerate(FIT_NAMES)}
    return FitResult(
        values=values,
        lo=lo,
        hi=hi,
        z=z,
        log_posterior=-float(res.fun),
        case_ids=[i for i, k in zip(batch.ids, keep, strict=True) if k > 0],
        iterations=int(res.nit),
        converged=bool(res.success),
        apriori={n: apriori[n].center() for n in FIT_NAMES},
    )


def _laplace_sd(batch: Batch, prior: Prior, z: FloatArray, keep: FloatArray) -> FloatArray:
    """Standard deviations on the fitting scale from the Hessian of the negative log posterior
    (differences of the batched gradient), symmetrised; NaN where it is not positive definite."""
    grad = _objective(batch, prior, keep)
    _, g0 = grad(z)
    p = len(z)
    h = np.empty((p, p))
    for j in range(p):
        step = np.zeros(p)
        step[j] = 1e-3
        _, gj = grad(z + step)
        h[:, j] = (gj - g0) / 1e-3
    h = 0.5 * (h + h.T)
    try:
        cov = np.linalg.inv(h)
    except np.linalg.LinAlgError:
        return np.full(p, np.nan)
    diag = np.diag(cov)
    return np.asarray(np.where(diag > 0, np.sqrt(np.abs(diag)), np.nan))


def fitted_params(result: FitResult, apriori: dict[str, Param], library: str) -> dict[str, Param]:
    """The full coefficient set: fitted values for :data:`FIT_NAMES`, a-priori values for the
    rest, each saying where it comes from."""
    out = dict(apriori)
    for name in FIT_NAMES:
        lo, hi = result.lo[name], result.hi[name]
        ci = f"{lo:.3g}-{hi:.3g}" if math.isfinite(lo) and math.isfinite(hi) else "not available"
        out[name] = Param(
            value=result.values[name],
            range=apriori[name].range,
            source=(
                f"fitted: posterior mode on the case library {library} "
                f"({len(result.case_ids)} cases with something to learn from); 90% interval "
                f"(Laplace) {ci}; a priori {result.apriori[name]:g}"
            ),
        )
    return out


def library_digest(paths: Sequence[Path]) -> str:
    """SHA-256 over the case files, in name order: the library a fit belongs to."""
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def fitted_file_text(
    result: FitResult,
    apriori: dict[str, Param],
    folder: Path,
    files: Sequence[Path],
    version: str,
    draws: int,
    seed: int,
    lens_weights: dict[str, float] | None = None,
) -> str:
    """The fitted coefficients as a coefficients file (every coefficient with its value and
    where it comes from), with a ``fitted_on`` block saying what it was fitted on."""
    import yaml

    params = fitted_params(result, apriori, str(folder))
    doc: dict[str, object] = {
        "fitted_on": {
            "library": str(folder),
            "cases": len(files),
            "cases_with_information": len(result.case_ids),
            "case_ids": result.case_ids,
            "library_sha256": library_digest(files),
            "detente": version,
            "draws_per_case": draws,
            "seed": seed,
            "method": "posterior mode (L-BFGS-B), weakly informative priors from the "
            "documented ranges, likelihood of each case's first talks as of its start",
            "log_posterior": round(result.log_posterior, 6),
            "converged": result.converged,
            **({"lens_weights": lens_weights} if lens_weights else {}),
        }
    }
    for name, p in params.items():
        doc[name] = p.model_dump(exclude_none=True)
    header = (
        "# Global coefficients fitted by `detente fit` (docs/validation.md). The a-priori values\n"
        "# stay in coefficients.yaml; `--coefficients apriori` uses them.\n"
    )
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
