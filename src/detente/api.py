"""The Python API: everything the command line does, one call each, validated here.

>>> import detente
>>> f = detente.run("examples/cases/iran-2018.yaml", draws=500, seed=1)  # doctest: +SKIP
>>> f.by_horizon()[24]["p"]  # doctest: +SKIP

Arguments after the first are keyword-only. A scenario is a path or a :class:`Scenario`; a lens a
name (``author``, ``proponent``, ``weighted``), a path or a :class:`Lens`; a backend ``"local"``,
``"dask"`` or a :class:`Backend`. Bad input raises :class:`detente.InputError` with the text the
command line prints (one line naming what is wrong and what was expected): a bad path, an unknown
or misspelt parameter (with the closest names), a value outside its allowed range, a draw count,
seed or horizon out of bounds. The CLI commands parse their options, call these and print.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeGuard

import numpy as np

from detente.backends import Backend, Progress, make_backend
from detente.defaults import DEFAULT_DRAWS, DEFAULT_SEED, MAX_DRAWS, MAX_SEED
from detente.engines import ENGINE_NAMES
from detente.errors import InputError
from detente.forecast import Forecast, as_of_index, run_scenario
from detente.scenario.coercion import Scenario
from detente.scenario.coercion import load_scenario as _load_scenario_file
from detente.scenario.params import Param
from detente.scenario.sample import Lens, check_fixed, load_coefficients, parameter_ranges
from detente.scenario.sample import load_lens as _load_lens

if TYPE_CHECKING:
    from detente.analysis.sensitivity import ScenarioSensitivity
    from detente.analysis.sweep import Axis
    from detente.engines.eum import Variant
    from detente.results import (
        CasesBacktest,
        Comparison,
        DeuBacktest,
        OutsideView,
        Solution,
        Sweep,
        TiesBacktest,
        TippingPoint,
    )
    from detente.scenario.actors import ActorFile

ScenarioLike = str | os.PathLike[str] | Scenario
LensLike = str | os.PathLike[str] | Lens | None
BackendLike = Literal["local", "dask"] | Backend | None
CoefficientsLike = str | os.PathLike[str] | Mapping[str, Param] | None

#: Bounds of the run options (the CLI's and the web API's).
MAX_HORIZON = 240


def as_path(name: str, value: object, expected: str = "a path") -> Path:
    """``value`` as a path, or an :class:`InputError` naming the argument and what it got."""
    if not isinstance(value, str | os.PathLike):
        raise InputError(name, None, f"expected {expected}, got {value!r}")
    return Path(value)


def load_scenario(scenario: ScenarioLike) -> Scenario:
    """A scenario from a .yaml path (validated), or the :class:`Scenario` given."""
    if isinstance(scenario, Scenario):
        return scenario
    path = as_path("scenario", scenario, "a path to a .yaml file or a Scenario")
    if not path.exists():
        raise InputError(str(path), None, "no such file")
    if path.is_dir():
        raise InputError(str(path), None, "a folder; expected a scenario file (.yaml)")
    return _load_scenario_file(path)


def load_lens(lens: LensLike) -> Lens | None:
    """A lens by name (author, proponent, weighted) or .yaml path; a :class:`Lens` as given."""
    if lens is None or isinstance(lens, Lens):
        return lens
    return _load_lens(str(lens))


def load_actors(actors: str | os.PathLike[str]) -> ActorFile:
    """An actor table (.csv, .yaml or a DECIDE file), validated."""
    from detente.scenario.actors import load_actor_file

    return load_actor_file(as_path("actors", actors, "a path to an actor table"))


def _coefficients(coefficients: CoefficientsLike) -> dict[str, Param] | None:
    if coefficients is None:
        return None
    if isinstance(coefficients, Mapping):
        return dict(coefficients)
    return load_coefficients(str(as_path("coefficients", coefficients, "a path or a mapping")))


def _whole(name: str, value: object, low: int, high: int) -> int:
    """An int option inside [low, high] (no bool, no float)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InputError(name, None, f"expected a whole number, got {value!r}")
    if not low <= int(value) <= high:
        raise InputError(name, None, f"{value} outside the allowed {low}-{high}")
    return int(value)


def _is_number(value: object) -> TypeGuard[int | float | np.number[Any]]:
    """An int, float or numpy number; a bool is not one (it would pass as 0 or 1)."""
    return isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)


def _real(name: str, value: object) -> float:
    """A number option (its range is checked where it is used)."""
    if not _is_number(value):
        raise InputError(name, None, f"expected a number, got {value!r}")
    return float(value)


def _probability(name: str, value: object) -> float:
    """A probability option, 0 to 1."""
    if _is_number(value) and 0.0 <= float(value) <= 1.0:
        return float(value)
    raise InputError(name, None, f"{value!r}: expected a probability 0-1")


def _run_options(draws: int, seed: int, horizon: int | None) -> None:
    _whole("draws", draws, 1, MAX_DRAWS)
    _whole("seed", seed, 0, MAX_SEED)
    if horizon is not None:
        _whole("horizon", horizon, 1, MAX_HORIZON)


def check_parameters(scenario: Scenario, fixed: Mapping[str, float] | None) -> dict[str, float]:
    """``fixed`` checked against the scenario: each path a parameter of the scenario (file paths,
    the defaults of what the file leaves out, ``coefficients.NAME``), each value a number inside
    its allowed range; an unknown path names the closest ones."""
    if fixed is not None and not isinstance(fixed, Mapping):
        got = type(fixed).__name__
        raise InputError(
            "fixed", None, f"expected a mapping of parameter paths to numbers, got {got}"
        )
    out = dict(fixed or {})
    check_fixed(scenario, out, "fixed")
    return {k: float(v) for k, v in out.items()}


@contextmanager
def backend_of(backend: BackendLike, scheduler: str | None = None) -> Iterator[Backend]:
    """A backend by name (closed on exit) or the one given (left open)."""
    if backend is not None and not isinstance(backend, str):
        if not callable(getattr(backend, "map", None)):
            raise InputError("backend", None, f"expected local, dask or a Backend, got {backend!r}")
        yield backend
        return
    name = backend or "local"
    try:
        made = make_backend(name, scheduler)
    except ValueError as exc:
        raise InputError("backend", None, str(exc)) from None
    except OSError as exc:
        raise InputError("--scheduler", None, f"cannot reach the Dask scheduler: {exc}") from None
    try:
        yield made
    finally:
        made.close()


def run(
    scenario: ScenarioLike,
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    horizon: int | None = None,
    lens: LensLike = None,
    fixed: Mapping[str, float] | None = None,
    as_of: str | None = None,
    backend: BackendLike = None,
    coefficients: CoefficientsLike = None,
    progress: Progress | None = None,
) -> Forecast:
    """Forecast whether and when the target opens direct talks (``detente run``).

    ``fixed`` sets parameters to one value in every draw (``{"leader.legacy_weight": 0.2,
    "events[2].scale": 0, "coefficients.w_legacy": 1}``); ``as_of`` (YYYY-MM) forecasts from the
    end of that month with what was announced by then.
    """
    scn = load_scenario(scenario)
    _run_options(draws, seed, horizon)
    lens_model = load_lens(lens)
    values = check_parameters(scn, fixed)
    coefs = _coefficients(coefficients)
    with backend_of(backend) as runner:
        return run_scenario(
            scn,
            draws=draws,
            seed=seed,
            horizon=horizon,
            lens=lens_model,
            fixed=values,
            backend=runner,
            progress=progress,
            as_of=as_of,
            coefficients=coefs,
        )


def compare(
    first: ScenarioLike,
    second: ScenarioLike | None = None,
    *,
    lenses: Sequence[LensLike] = (),
    fixed: Mapping[str, float] | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    horizon: int | None = None,
    as_of: str | None = None,
    backend: BackendLike = None,
    coefficients: CoefficientsLike = None,
    progress: Progress | None = None,
) -> Comparison:
    """Two forecasts on the same draws (``detente compare``): two scenarios (under at most one
    lens), one scenario under two ``lenses``, or one scenario as stated and with ``fixed``
    changes (a counterfactual). ``difference`` is the second's p minus the first's."""
    from detente.results import Comparison

    # one lens given bare is a list of one (a string is not a list of its letters)
    lens_list = [lenses] if isinstance(lenses, str | os.PathLike | Lens) else list(lenses)
    one = lens_list[0] if len(lens_list) == 1 else None
    pairs: list[tuple[ScenarioLike, LensLike, Mapping[str, float]]]
    if second is not None and len(lens_list) <= 1 and not fixed:
        pairs = [(first, one, {}), (second, one, {})]
    elif second is None and len(lens_list) == 2 and not fixed:
        pairs = [(first, lens_list[0], {}), (first, lens_list[1], {})]
    elif second is None and len(lens_list) <= 1 and fixed:
        pairs = [(first, one, {}), (first, one, fixed)]
    else:
        raise InputError(
            "compare",
            None,
            "takes two scenarios, or one scenario and two lenses (--lens), "
            "or one scenario and changes to its parameters (--set, fixed=)",
        )
    _run_options(draws, seed, horizon)
    prepared = [(load_scenario(s), load_lens(lens), f) for s, lens, f in pairs]
    checked = [(s, lens, check_parameters(s, f)) for s, lens, f in prepared]
    coefs = _coefficients(coefficients)
    runs: list[Forecast] = []
    with backend_of(backend) as runner:
        for scn, lens_model, values in checked:  # checked above: run the model directly
            runs.append(
                run_scenario(
                    scn,
                    draws=draws,
                    seed=seed,
                    horizon=horizon,
                    lens=lens_model,
                    fixed=values,
                    backend=runner,
                    as_of=as_of,
                    coefficients=coefs,
                )
            )
            if progress:
                progress(1)
    a, b = (r.by_horizon() for r in runs)
    diff = {h: b[h]["p"] - a[h]["p"] for h in a if h in b}
    return Comparison(runs=(runs[0], runs[1]), difference=diff)


def sensitivity(
    scenario: ScenarioLike,
    *,
    samples: int = 512,
    horizon: int | None = None,
    seed: int = DEFAULT_SEED,
    lens: LensLike = None,
    backend: BackendLike = None,
    progress: Progress | None = None,
) -> ScenarioSensitivity:
    """Sobol indices (S1, ST) of P(talks within the horizon) over every uncertain parameter
    (``detente sensitivity``); ``samples`` is SALib's N, a power of 2."""
    from detente.analysis.sensitivity import scenario_sensitivity

    scn = load_scenario(scenario)
    _whole("samples", samples, 8, 1 << 20)
    if samples & (samples - 1):
        raise InputError(
            "--samples", None, f"{samples}: use a power of 2 (e.g. 256, 512, 1024) for Sobol"
        )
    _run_options(1, seed, horizon)
    lens_model = load_lens(lens)
    with backend_of(backend) as runner:
        try:
            return scenario_sensitivity(
                scn, samples, seed, horizon, lens_model, backend=runner, progress=progress
            )
        except ValueError as exc:
            if isinstance(exc, InputError):
                raise
            raise InputError(scn.id, None, str(exc).removeprefix(f"{scn.id}: ")) from None


def _numbers(where: str, values: Any) -> np.ndarray[tuple[int], np.dtype[np.float64]]:
    """``values`` as a float array, each a real number (not a bool, not a string)."""
    if isinstance(values, np.ndarray) and values.ndim == 1:
        values = values.tolist()
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise InputError(where, None, f"expected a list of numbers, got {type(values).__name__}")
    for v in values:
        if not _is_number(v):
            raise InputError(where, None, f"expected numbers, got {v!r}")
    return np.asarray(values, dtype=np.float64)


def _axes(scn: Scenario, grid: Mapping[str, Sequence[float]] | Sequence[str]) -> list[Axis]:
    """The grid's axes, each path a parameter of the scenario and its ends inside its range."""
    from detente.analysis.sweep import Axis

    if isinstance(grid, Mapping):
        axes = [Axis(str(k), _numbers(f"grid[{k!r}]", v)) for k, v in grid.items()]
    else:
        specs = [grid] if isinstance(grid, str) else list(grid)
        bad = [g for g in specs if not isinstance(g, str)]
        if bad:
            raise InputError("--grid", None, f"expected PATH=a:b:n strings, got {bad[0]!r}")
        try:
            axes = [Axis.parse(g) for g in specs]
        except ValueError as exc:
            raise InputError("--grid", None, str(exc)) from None
    if not axes or any(len(a.values) == 0 for a in axes):
        raise InputError("--grid", None, "give at least one parameter with at least one value")
    if len({a.path for a in axes}) != len(axes):
        raise InputError("--grid", None, "each parameter may appear once")
    for a in axes:
        check_parameters(scn, {a.path: float(a.values.min())})
        check_parameters(scn, {a.path: float(a.values.max())})
    return axes


def sweep(
    scenario: ScenarioLike,
    grid: Mapping[str, Sequence[float]] | Sequence[str],
    *,
    draws: int = 200,
    seed: int = DEFAULT_SEED,
    horizon: int | None = None,
    lens: LensLike = None,
    backend: BackendLike = None,
    progress: Progress | None = None,
) -> Sweep:
    """P(talks within the horizon) over a grid (``detente sweep``): ``grid`` maps each path to
    its values, or is a list of ``PATH=a:b:n`` strings. Every point uses the same draws."""
    from detente.analysis.sweep import run_sweep
    from detente.results import Sweep

    scn = load_scenario(scenario)
    _run_options(draws, seed, horizon)
    _whole("draws", draws, 1, 100_000)
    axes = _axes(scn, grid)
    lens_model = load_lens(lens)
    with backend_of(backend) as runner:
        res = run_sweep(scn, axes, draws, seed, horizon, lens_model, runner, progress=progress)
    return Sweep(
        scenario=scn.id,
        axes=[a.path for a in axes],
        table=res.table,
        complete=res.complete,
        total_points=res.total_points,
    )


def tipping_point(
    scenario: ScenarioLike,
    param: str,
    *,
    target: float = 0.5,
    horizon: int | None = None,
    low: float | None = None,
    high: float | None = None,
    draws: int = 1000,
    seed: int = DEFAULT_SEED,
    lens: LensLike = None,
    backend: BackendLike = None,
    coefficients: CoefficientsLike = None,
    progress: Progress | None = None,
) -> TippingPoint:
    """The value of ``param`` at which P(talks within ``horizon`` months) crosses ``target``
    (``detente tip``): bisection between ``low`` and ``high`` (default: the allowed range), the
    other numbers drawn as the scenario says, the same draws for every value."""
    from detente.analysis.tipping import find_tipping_point
    from detente.results import TippingPoint

    scn = load_scenario(scenario)
    _run_options(draws, seed, horizon)
    _probability("target", target)
    if not isinstance(param, str):
        raise InputError("param", None, f"expected a parameter path, got {param!r}")
    ranges = parameter_ranges(scn)
    if param not in ranges:
        check_parameters(scn, {param: 0.0})  # names the closest parameters
    lo = ranges[param].low if low is None else _real("low", low)
    hi = ranges[param].high if high is None else _real("high", high)
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
        raise InputError(
            param, None, "give a finite search interval with low and high (low < high)"
        )
    check_parameters(scn, {param: lo})
    check_parameters(scn, {param: hi})
    months = horizon if horizon is not None else scn.horizon
    lens_model = load_lens(lens)
    coefs = _coefficients(coefficients)
    with backend_of(backend) as runner:

        def p_of(value: float) -> float:
            f = run_scenario(
                scn,
                draws=draws,
                seed=seed,
                horizon=months,
                lens=lens_model,
                fixed={param: value},
                backend=runner,
                coefficients=coefs,
            )
            if progress:
                progress(1)
            return f.p_within(months)

        res = find_tipping_point(p_of, lo, hi, target)
    return TippingPoint(param=param, target=target, horizon=months, result=res)


def discover(
    scenario: ScenarioLike,
    *,
    horizon: int = 24,
    threshold: float = 0.5,
    draws: int = 2000,
    seed: int = DEFAULT_SEED,
    lens: LensLike = None,
    coefficients: CoefficientsLike = None,
    alpha: float = 0.05,
    min_support: float = 0.05,
    paste: bool = False,
) -> dict[str, Any]:
    """Scenario discovery (``detente discover``): PRIM boxes over the draws of every uncertain
    input, for the draws whose P(talks within ``horizon``) reaches ``threshold``. The dict is the
    ``--json`` contract (docs/analysis.md): ``share``, ``inputs``, ``trajectory``, ``boxes``."""
    from detente.analysis.discover import discover_scenario

    scn = load_scenario(scenario)
    _run_options(draws, seed, horizon)
    _probability("threshold", threshold)
    _real("alpha", alpha)
    _real("min_support", min_support)
    if not (0.0 < alpha < 0.5 and 0.0 < min_support < 1.0):
        raise InputError("alpha", None, "expected 0 < alpha < 0.5 and 0 < min_support < 1")
    return discover_scenario(
        scn,
        draws,
        seed,
        horizon,
        threshold,
        load_lens(lens),
        alpha,
        min_support,
        paste,
        _coefficients(coefficients),
    )


def ties_path(ties: str | os.PathLike[str] | None) -> Path | None:
    """The TIES file: the one given, else $DETENTE_TIES, else None."""
    if ties is not None:
        return as_path("ties", ties)
    env = os.environ.get("DETENTE_TIES")
    return Path(env) if env else None


def outside_view(
    scenario: ScenarioLike,
    *,
    ties: str | os.PathLike[str] | None = None,
    k: int = 30,
    as_of: str | None = None,
) -> OutsideView:
    """Base rates (``detente outside-view``): how the ``k`` TIES episodes most like the
    scenario's ``outside_view`` profile ended, and a logistic model fitted on TIES, both from the
    episodes whose outcome was on record by the as-of month (default: the start). Without a
    profile, a TIES file (``ties``, else $DETENTE_TIES) or ``k`` such episodes, the result says
    what is ``missing``."""
    from detente.results import OutsideView

    scn = load_scenario(scenario)
    _whole("k", k, 5, 500)
    month = scn.start_month + as_of_index(scn, as_of)
    path = ties_path(ties)
    if scn.outside_view is None:
        return OutsideView(scn.id, {"missing": f"{scn.id} has no outside_view block"})
    if path is None:
        return OutsideView(
            scn.id, {"missing": "give --ties FILE (or set DETENTE_TIES) for the outside view"}
        )
    from detente.history import ties as ties_data

    prof = ties_data.profile(scn.outside_view)
    doc = ties_data.outside_view_as_of(ties_data.read_ties(path), prof, month, k)
    return OutsideView(scn.id, {"ties": str(path), **doc})


def _variant(name: str) -> Variant:
    """An EUM variant by name (``published`` or ``scholz-code``)."""
    from detente.engines.eum import VARIANTS

    if name not in VARIANTS:
        raise InputError("variant", None, f"{name!r}; expected one of {', '.join(VARIANTS)}")
    return name


def solve(
    actors: str | os.PathLike[str] | ActorFile,
    *,
    model: str | None = None,
    rounds: int | None = None,
    variant: str = "published",
    q: float = 1.0,
    t: float = 1.0,
    issue: str | None = None,
) -> Solution:
    """Each issue of an actor table with every engine, or ``model`` only (``detente solve``).
    ``smp`` takes the selected issues together as the dimensions of one decision."""
    from detente.engines.eum import ExpectedUtility
    from detente.engines.exchange import DEFAULT_ROUNDS as DEFAULT_EXCHANGE_ROUNDS
    from detente.results import Solution
    from detente.scenario.actors import ActorFile
    from detente.scenario.ktab import spatial_table
    from detente.solve import ISSUE_MODELS, solve_issues, solve_spatial

    data = actors if isinstance(actors, ActorFile) else load_actors(actors)
    issues = data.issues
    if issue is not None:
        issues = [i for i in issues if i.id == issue]
        if not issues:
            have = ", ".join(i.id for i in data.issues)
            raise InputError(data.path, None, f"no issue {issue!r}; the file has {have}")
    if model is not None and model not in ENGINE_NAMES:
        raise InputError("model", None, f"{model!r}; expected one of {', '.join(ENGINE_NAMES)}")
    if model == "smp":
        return Solution(data.path, ("smp",), spatial=solve_spatial(spatial_table(data, issues)))
    try:
        eum = ExpectedUtility(variant=_variant(variant), rounds=rounds, q=q, t=t)
    except ValueError as exc:
        raise InputError("solve", None, str(exc)) from None
    models = (model,) if model else ISSUE_MODELS
    forecasts, joint = solve_issues(
        issues,
        models,
        eum,
        actor_order=data.actor_order,
        exchange_rounds=DEFAULT_EXCHANGE_ROUNDS if rounds is None else rounds,
    )
    return Solution(data.path, models, forecasts, joint, eum_variant=eum.variant)


def backtest_deu(
    file: str | os.PathLike[str],
    *,
    capability: Literal["gdp", "equal"] = "gdp",
    variant: str = "published",
    model: str | None = None,
    cv: int | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> DeuBacktest:
    """Every engine (or ``model``; ``"ensemble"``: the shipped weights, with ``cv`` folds their
    K-fold cross-validation on ``file``) on every DEU issue with an outcome."""
    from detente.history.deu import backtest_deu as run_deu
    from detente.history.deu import read_deu
    from detente.history.ensemble import backtest_ensemble, cross_validate, load_weights
    from detente.results import DeuBacktest

    data = read_deu(as_path("file", file), capability=capability)
    if cv is not None and model != "ensemble":
        raise InputError("--cv", None, "--cv goes with --model ensemble")
    if model == "ensemble":
        shipped = load_weights()
        if cv is None:
            doc = backtest_ensemble(data, shipped, progress=progress)
        else:
            _whole("cv", cv, 2, 10_000)
            try:
                doc = cross_validate(data, cv, shipped.members, seed=seed, progress=progress)
            except ValueError as exc:
                raise InputError(str(file), None, str(exc)) from None
        doc["capability"] = capability
        return DeuBacktest(doc)
    if model is not None and model not in ENGINE_NAMES:
        raise InputError(
            "model", None, f"unknown model {model!r}; expected one of "
            f"{', '.join(ENGINE_NAMES)}, ensemble"
        )  # fmt: skip
    _variant(variant)
    chosen = ENGINE_NAMES if model is None else (model,)
    doc = run_deu(data, models=chosen, progress=progress, variant=variant)
    doc["capability"] = capability
    doc["eum_variant"] = variant
    return DeuBacktest(doc)


def backtest_cases(
    folder: str | os.PathLike[str] = "examples/cases",
    *,
    horizon: int = 24,
    draws: int = 1000,
    seed: int = DEFAULT_SEED,
    ties: str | os.PathLike[str] | None = None,
    origins: int | None = None,
    cv: bool = False,
    lenses: Sequence[str] = (),
    fit_draws: int = 64,
    coefficients: CoefficientsLike = None,
    progress: Progress | None = None,
    cv_progress: Progress | None = None,
    forward: bool = False,
) -> CasesBacktest:
    """The coercion model on every case with an outcome, as of its start; Brier score against
    the base rate; with ``cv``, out of sample (coefficients refitted without each case); with
    ``forward``, forward in time (coefficients fitted on the library's record at each case's
    as-of month, beside the base rate of the cases settled by then)."""
    from detente.history import cases, crossval
    from detente.history import ties as ties_data
    from detente.results import CasesBacktest

    _whole("horizon", horizon, 1, MAX_HORIZON)
    _whole("draws", draws, 10, 100_000)
    _whole("seed", seed, 0, MAX_SEED)
    library = cases.load_library(as_path("folder", folder))
    names = [n.strip() for n in lenses if n.strip()]
    for name in names:
        _load_lens(name)
    tpath = ties_path(ties)
    outside = None
    if tpath is not None:
        df = ties_data.read_ties(tpath)
        # each case as of its start, as the model forecasts it
        docs = {
            scn.id: ties_data.outside_view_as_of(
                df, ties_data.profile(scn.outside_view), scn.start_month
            )
            for _, scn in library
            if scn.outside_view is not None
        }
        outside = {i: float(d["model_p"]) for i, d in docs.items() if "missing" not in d}
    coefs = _coefficients(coefficients)
    results = cases.run_library(library, horizon, draws, seed, outside, progress, origins, coefs)
    doc: dict[str, Any] = dict(cases.score_library(results))
    if cv:
        cv_rows = crossval.leave_one_out(
            library,
            draws=draws,
            seed=seed,
            fit_draws=fit_draws,
            origins=origins,
            horizon=horizon,
            lenses=names,
            progress=cv_progress,
        )
        doc["cv"] = crossval.summarise(cv_rows, horizon, outside)
    if forward:
        rows = crossval.forward(
            library,
            draws=draws,
            seed=seed,
            fit_draws=fit_draws,
            origins=origins,
            horizon=horizon,
            progress=cv_progress,
        )
        doc["forward"] = crossval.summarise(rows, horizon)
    doc["horizon"] = horizon
    doc["origins"] = origins
    doc["excluded"] = {
        c: "talks opened in the start month: nothing to forecast as of its end"
        for c in cases.opened_at_start(library)
    }
    return CasesBacktest(doc)


#: How TIES outcomes are coded as talks (1) or not (0), stated in every TIES backtest.
TIES_OUTCOME = "1 = finaloutcome 1, 2, 5, 6, 7, 10; 0 = 3, 4, 8, 9; others left out"


def backtest_ties(
    train: str | os.PathLike[str],
    *,
    test: str | os.PathLike[str] | None = None,
    cv: int | None = None,
) -> TiesBacktest:
    """The outside-view model fitted on ``train`` and scored on ``test``, or ``cv``-fold
    cross-validated on ``train``."""
    from detente.history import ties as ties_data
    from detente.results import TiesBacktest

    if (test is None) == (cv is None):
        raise InputError(
            "backtest ties",
            None,
            "give --test FILE, or --cv K to cross-validate on the --train file",
        )
    train_df = ties_data.read_ties(as_path("train", train))
    if test is not None:
        result: dict[str, Any] = dict(
            ties_data.backtest(train_df, ties_data.read_ties(as_path("test", test)))
        )
    else:
        assert cv is not None
        result = dict(ties_data.cross_validate(train_df, _whole("cv", cv, 2, 50)))
    result["outcome"] = TIES_OUTCOME
    return TiesBacktest(result)
