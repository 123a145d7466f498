"""Scenario -> arrays: draw every uncertain parameter and lay the timeline out by month."""

from __future__ import annotations

import difflib
import functools
from importlib import resources
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from detente.dynamics.coefficients import Coefficients
from detente.dynamics.inputs import CaseInputs
from detente.engines.base import FloatArray
from detente.errors import InputError
from detente.scenario.coercion import (
    CHANNELS,
    OFFER_TYPES,
    Range,
    Scenario,
    format_month,
    iter_params,
    parse_month,
)
from detente.scenario.limits import MAX_MAGNITUDE, validate_seed
from detente.scenario.params import Param, path_rng
from detente.scenario.yamlio import load_yaml_text, read_text, validate_mapping, validation_error

#: Allowed range of each global coefficient (a lens must stay inside it).
_UNIT = (
    "instability_threshold",
    "betrayal_trust_cut",
    "salience_gain",
    "opportunity_base",
    "secrecy_discount",
    "mediation_discount",
    "mediated_value",
    "offer_rate",
    "mediation_rate",
    "channel_open",
    "back_channel_working",
    "sender_election_cost",
)
_MONTHS = ("offer_window", "sender_election_window")


def coefficient_range(name: str) -> Range:
    if name.startswith("rally_") or name in _UNIT or name.endswith("_shift"):
        return Range(0.0, 1.0)
    if name.startswith("tau_") or name in _MONTHS:
        return Range(0.5, 240.0)
    if name == "pain_scale":
        return Range(0.01, 1.0)
    return Range(0.0, 100.0)


class Lens(BaseModel):
    """A thesis: beliefs over the global coefficients; or a mixture of lenses (``mixture``: lens
    name -> weight), each draw taken from one lens with its weight's probability."""

    model_config = ConfigDict(extra="forbid")

    name: str
    title: str
    thesis: str
    coefficients: dict[str, Param] = {}  # pydantic copies a mutable default per instance
    mixture: dict[str, float] | None = None


def _package_text(*parts: str) -> tuple[str, str]:
    ref = resources.files("detente.scenario").joinpath(*parts)
    return ref.read_text(encoding="utf-8"), f"detente/scenario/{'/'.join(parts)}"


def _check_coefficients(params: dict[str, Param], file: str, prefix: str) -> None:
    names = Coefficients.names()
    for name, p in params.items():
        if name not in names:
            raise InputError(
                file, f"{prefix}{name}", f"no such coefficient; known: {', '.join(names)}"
            )
        rng = coefficient_range(name)
        lo, hi = p.support()
        if p.normal is not None:
            lo = hi = p.normal[0]
        if lo < rng.low or hi > rng.high:
            raise InputError(
                file, f"{prefix}{name}", f"{p.describe()} outside [{rng.low:g}, {rng.high:g}]"
            )


#: The a-priori values (never fitted) and the file fitted on the case library (``detente fit``).
APRIORI_FILE = "coefficients.yaml"
FITTED_FILE = "coefficients.fitted.yaml"
#: Key of a coefficients file that says what it was fitted on (not a coefficient).
FITTED_ON = "fitted_on"


def _parse_coefficients(text: str, file: str) -> dict[str, Param]:
    return _coefficients_of(load_yaml_text(text, file), file)


def _coefficients_of(data: object, file: str) -> dict[str, Param]:
    if not isinstance(data, dict):
        raise InputError(file, "(top level)", "expected a mapping: coefficient names to values")
    data = {k: v for k, v in data.items() if k != FITTED_ON}
    try:
        params = {k: Param.model_validate(v) for k, v in data.items()}
    except ValidationError as exc:
        raise validation_error(file, exc) from None
    missing = set(Coefficients.names()) - set(params)
    if missing:
        raise InputError(file, None, f"missing coefficients {sorted(missing)}")
    _check_coefficients(params, file, "")
    return params


@functools.cache
def _shipped_coefficients(name: str) -> dict[str, Param]:
    """A coefficients file shipped in the package, parsed once per process (every run needs
    them, several times; callers get a copy of the mapping). The package's own files are read
    with libyaml's parser where PyYAML has it (ten times faster than the pure-Python one the
    users' files go through for their line-numbered messages); they are validated the same."""
    text, file = _package_text(name)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return _coefficients_of(yaml.load(text, Loader=loader), file)  # noqa: S506 - a safe loader


def apriori_coefficients() -> dict[str, Param]:
    """The a-priori values (``coefficients.yaml``): set by reasoning, never fitted."""
    return dict(_shipped_coefficients(APRIORI_FILE))


def _has_fitted() -> bool:
    return resources.files("detente.scenario").joinpath(FITTED_FILE).is_file()


def default_coefficients() -> dict[str, Param]:
    """The shipped values: the file fitted on the case library where the package has one
    (``coefficients.fitted.yaml``), else the a-priori values."""
    if _has_fitted():
        return dict(_shipped_coefficients(FITTED_FILE))
    return apriori_coefficients()


def load_coefficients(name_or_path: str | Path | None) -> dict[str, Param]:
    """Coefficients by name (``apriori``, ``fitted``), from a file, or the shipped default."""
    if name_or_path is None:
        return default_coefficients()
    if str(name_or_path) == "apriori":
        return apriori_coefficients()
    if str(name_or_path) == "fitted":
        if not _has_fitted():
            raise InputError("fitted", None, "this build ships no fitted coefficients")
        return _parse_coefficients(*_package_text(FITTED_FILE))
    path = Path(name_or_path)
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise InputError(str(path), None, "use apriori, fitted, or a coefficients .yaml file")
    return _parse_coefficients(read_text(path), str(path))


def fitted_on(name_or_path: str | Path | None = None) -> dict[str, object] | None:
    """What a coefficients file says it was fitted on (None for a-priori values)."""
    if name_or_path is None or str(name_or_path) == "fitted":
        if not _has_fitted():
            return None
        text, file = _package_text(FITTED_FILE)
    elif str(name_or_path) == "apriori":
        return None
    else:
        text, file = read_text(Path(name_or_path)), str(name_or_path)
    data = load_yaml_text(text, file)
    meta = data.get(FITTED_ON) if isinstance(data, dict) else None
    return meta if isinstance(meta, dict) else None


LENSES = ("author", "proponent")


def load_lens(name_or_path: str) -> Lens:
    """A shipped lens by name (``author``, ``proponent``, ``weighted``) or a lens file by path.

    ``weighted`` mixes the shipped lenses by the weights their out-of-sample scores earned on the
    case library (``detente fit --lenses``, stored with the fitted coefficients)."""
    if name_or_path == "weighted":
        return weighted_lens()
    if name_or_path in LENSES:
        text, file = _package_text("lenses", f"{name_or_path}.yaml")
    else:
        path = Path(name_or_path)
        if path.suffix.lower() not in (".yaml", ".yml"):
            raise InputError(
                name_or_path, None, f"unknown lens; use {' or '.join(LENSES)}, or a lens .yaml file"
            )
        text, file = read_text(path), str(path)
    data = load_yaml_text(text, file)
    lens = validate_mapping(data, Lens, file, "a lens (name, title, thesis, coefficients)")
    if not lens.coefficients:
        raise InputError(file, "coefficients", "a lens needs at least one coefficient")
    if lens.mixture is not None:
        raise InputError(file, "mixture", "only the shipped 'weighted' lens is a mixture")
    _check_coefficients(lens.coefficients, file, "coefficients.")
    return lens


def weighted_lens() -> Lens:
    """The shipped lenses mixed by their stacking weights (from the fitted coefficients file)."""
    meta = fitted_on()
    weights = meta.get("lens_weights") if meta else None
    if not isinstance(weights, dict) or not weights:
        raise InputError(
            "weighted",
            None,
            "no lens weights in this build's fitted coefficients (run detente fit --lenses)",
        )
    clean = {str(k): float(v) for k, v in weights.items()}
    return Lens(
        name="weighted",
        title="The two theses, weighed by history",
        thesis="lenses mixed by their out-of-sample stacking weights: "
        + ", ".join(f"{k} {v:.2f}" for k, v in clean.items()),
        mixture=clean,
    )


def coefficient_params(
    lens: Lens | None = None, base: dict[str, Param] | None = None
) -> dict[str, Param]:
    """The global coefficients: ``base`` (default: the shipped values), with the lens's beliefs
    over them."""
    params = dict(base) if base is not None else default_coefficients()
    if lens is not None:
        params.update(lens.coefficients)
    return params


#: Numbers a run needs that a file may leave out: their default, documented in docs/scenarios.md.
DEFAULTS: dict[str, tuple[Param, Range]] = {
    "sender_side.openness": (
        Param(
            uniform=(0.5, 1.0),
            assumption="default for a file without sender_side: senders in coercion episodes "
            "say they are open to talks on their terms; 0.5-1",
        ),
        Range(0.0, 1.0),
    ),
    "sender_side.domestic_cost": (
        Param(
            uniform=(0.0, 0.3),
            assumption="default for a file without sender_side: a low to moderate domestic cost "
            "of talking to the target; 0-0.3",
        ),
        Range(0.0, 1.0),
    ),
    "pressure_scale": (
        Param(
            value=1.0,
            assumption="every channel's pressure as written in the file; a counterfactual "
            "multiplier (0 = no pressure), for --set, tip and sweeps",
        ),
        Range(0.0, 3.0),
    ),
}


def all_params(
    scn: Scenario, lens: Lens | None = None, coefficients: dict[str, Param] | None = None
) -> dict[str, tuple[Param, Range]]:
    """Every number of a run in one namespace: the scenario's by path in the file, the defaults
    of what the file leaves out (:data:`DEFAULTS`), the global coefficients as
    ``coefficients.NAME``; each with its allowed range."""
    out = {path: (p, rng) for path, p, rng in iter_params(scn)}
    for path, item in DEFAULTS.items():
        out.setdefault(path, item)
    for path, item in _event_scales(scn).items():
        out.setdefault(path, item)
    for name, p in coefficient_params(lens, coefficients).items():
        out[f"coefficients.{name}"] = (p, coefficient_range(name))
    return out


#: Events whose size the run uses (an offer's, a broken deal's, a threat's, a failed round's).
_SIZED_EVENTS = (*OFFER_TYPES, "deal_broken", "threat", "talks_failed")


def _event_scales(scn: Scenario) -> dict[str, tuple[Param, Range]]:
    """``events[k].scale`` of each sized event that leaves it out: 1 (the event as written),
    settable with --set like any other number (0 removes the event)."""
    return {
        f"events[{k}].scale": (
            Param(value=1.0, assumption="the event at its usual size (default scale 1)"),
            Range(0.0, 3.0),
        )
        for k, ev in enumerate(scn.events)
        if ev.scale is None and ev.type in _SIZED_EVENTS
    }


def _as_tuple(rng: Range) -> tuple[float, float]:
    return (rng.low, rng.high)


def draw_params(
    scn: Scenario,
    draws: int,
    seed: int,
    lens: Lens | None = None,
    fixed: dict[str, float] | None = None,
    coefficients: dict[str, Param] | None = None,
) -> dict[str, FloatArray]:
    """``(draws,)`` values of every number of a run (see :func:`all_params`).

    Each number has its own random stream, seeded by the run seed and its path, so the first k of
    n draws are the same whatever n is, and adding a number changes no other. ``fixed`` sets
    numbers to one value in every draw; the others come from the same streams as without it
    (common random numbers).
    """
    validate_seed(seed)
    fixed = fixed or {}
    if lens is not None and lens.mixture:
        return _draw_mixture(scn, draws, seed, lens.mixture, fixed, coefficients)
    return {
        path: np.full(draws, float(fixed[path]))
        if path in fixed
        else p.sample(functools.partial(path_rng, seed, path), draws, _as_tuple(rng))
        for path, (p, rng) in all_params(scn, lens, coefficients).items()
    }


def _draw_mixture(
    scn: Scenario,
    draws: int,
    seed: int,
    mixture: dict[str, float],
    fixed: dict[str, float],
    coefficients: dict[str, Param] | None,
) -> dict[str, FloatArray]:
    """Each draw from one lens, chosen with the lens's weight by a stream of its own."""
    names = list(mixture)
    weights = np.array([mixture[n] for n in names], dtype=np.float64)
    parts = [draw_params(scn, draws, seed, load_lens(n), fixed, coefficients) for n in names]
    u = path_rng(seed, "lens-mixture").random(draws)
    which = np.minimum(np.searchsorted(np.cumsum(weights / weights.sum()), u), len(names) - 1)
    return {path: np.choose(which, [p[path] for p in parts]) for path in parts[0]}


def build_coefficients(v: dict[str, FloatArray]) -> Coefficients:
    return Coefficients(**{n: v[f"coefficients.{n}"] for n in Coefficients.names()})


def parameter_ranges(scn: Scenario) -> dict[str, Range]:
    """Every settable number (scenario paths and ``coefficients.NAME``) and its range."""
    return {path: rng for path, (_, rng) in all_params(scn).items()}


def closest(path: str, paths: list[str], n: int = 3) -> list[str]:
    """The paths nearest to a misspelt one: by the whole path (difflib's ratio), else by its last
    part (``legacy_wieght`` -> ``leader.legacy_weight``)."""
    near = difflib.get_close_matches(path, paths, n=n, cutoff=0.75)
    if near:
        return near
    last = path.rsplit(".", 1)[-1]
    tails = {p.rsplit(".", 1)[-1] for p in paths}
    keep = set(difflib.get_close_matches(last, list(tails), n=n, cutoff=0.7))
    return [p for p in paths if p.rsplit(".", 1)[-1] in keep][:n]


def check_fixed(scn: Scenario, fixed: dict[str, float], source: str = "--set") -> None:
    """Each fixed path must be a parameter of the scenario or a coefficient, inside its range."""
    if not fixed:
        return
    ranges = parameter_ranges(scn)
    for path, value in fixed.items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise InputError(source, path, f"expected a number, got {value!r}")
        if path not in ranges:
            near = closest(path, list(ranges))
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise InputError(source, path, f"no such parameter in {scn.id}{hint}")
        rng = ranges[path]
        if not rng.low <= value <= rng.high:  # NaN fails this too
            raise InputError(
                source, path, f"{value:g} outside the allowed [{rng.low:g}, {rng.high:g}]"
            )
        if abs(value) > MAX_MAGNITUDE:  # a capability's range has no upper end
            raise InputError(source, path, f"{value:g} is beyond +-{MAX_MAGNITUDE:g}")


def build_case(scn: Scenario, v: dict[str, FloatArray], months: int, as_of: int = 0) -> CaseInputs:
    """The case's arrays from drawn numbers ``v`` (by path), laid out over ``months``.

    ``as_of`` is the month index of the as-of month: events announced after it are left out (a
    forecaster could not know them), events announced by then apply in their month, and offers
    to come are drawn by the model from the month after it.
    """
    draws = len(v["economy.evasion_max"])
    channels = list(scn.pressure)
    pressure = np.zeros((draws, months, len(channels)))
    for c, name in enumerate(channels):
        # a phase not announced by the as-of month is unknown: the one before it goes on
        phases = [
            (k, phase)
            for k, phase in enumerate(scn.pressure[name].timeline)
            if scn.month_index(phase.known_from) <= as_of
        ]
        for j, (k, phase) in enumerate(phases):
            begin = max(0, scn.month_index(phase.start))
            end = (
                months if j + 1 == len(phases) else max(0, scn.month_index(phases[j + 1][1].start))
            )
            if begin >= min(end, months):
                continue
            base = f"pressure.{name}.timeline[{k}]"
            level = v[f"{base}.intensity"] * v[f"{base}.enforcement"]
            pressure[:, begin : min(end, months), c] = level[:, None]
    pressure *= v["pressure_scale"][:, None, None]
    exposure = np.stack([v[f"pressure.{n}.exposure"] for n in channels], axis=1)

    def faction_array(field: str) -> FloatArray:
        return np.stack([v[f"factions[{k}].{field}"] for k in range(len(scn.factions))], axis=1)

    f = len(scn.factions)
    index = {fac.name: k for k, fac in enumerate(scn.factions)}
    ev = {kind: np.zeros((draws, months)) for kind in ("deal_broken", "threat", "talks_failed")}
    offer = np.zeros((draws, months, len(CHANNELS)))
    new = {
        field: np.full((draws, months, f), np.nan)
        for field in ("capability", "position", "salience")
    }
    for k, event in enumerate(scn.events):
        t = scn.month_index(event.month)
        if t >= months or scn.month_index(event.known_from) > as_of:
            continue
        size = v.get(f"events[{k}].scale", np.ones(draws))
        if event.type in OFFER_TYPES:
            channel = event.channel or OFFER_TYPES[event.type]
            offer[:, t, CHANNELS.index(channel)] += size
        elif event.type in ev:
            ev[event.type][:, t] += size
        for name, change in (event.changes or {}).items():
            for field in ("capability", "position", "salience"):
                if getattr(change, field) is not None:
                    new[field][:, t, index[name]] = v[f"events[{k}].changes.{name}.{field}"]
    openness, gap = _sender_calendar(scn, v, draws, months, as_of)
    successor = _successor(scn, v, draws)
    return CaseInputs(
        pressure=pressure,
        exposure=exposure,
        prior_experience=v["economy.prior_experience"],
        evasion_max=v["economy.evasion_max"],
        substitution_max=v["economy.substitution_max"],
        substitution_lag=v["economy.substitution_lag"],
        baseline_discontent=v["society.baseline_discontent"],
        pain_to_discontent=v["society.pain_to_discontent"],
        legitimacy_of_talks=v["leader.legitimacy_of_talks"],
        legacy_weight=v["leader.legacy_weight"],
        trust=v["sender_image.trust"],
        regime_change_belief=v["sender_image.regime_change_belief"],
        demand_scope=v["sender_image.demand_scope"],
        capability=faction_array("capability"),
        position=faction_array("position"),
        salience=faction_array("salience"),
        wants_relief=faction_array("wants_relief"),
        deal_broken=ev["deal_broken"],
        threat=ev["threat"],
        talks_failed=ev["talks_failed"],
        offer=offer,
        drawn_from=as_of + 1,
        openness=openness,
        sender_cost=v["sender_side.domestic_cost"],
        election_gap=np.repeat(gap[None, :], draws, axis=0),
        mediator=_best_mediator(scn, v, draws),
        standing=np.full(draws, float(STANDING.index(scn.standing_channel))),
        successor_hazard=successor["hazard"],
        successor_legitimacy=successor["legitimacy_of_talks"],
        successor_legacy=successor["legacy_weight"],
        successor_position=successor["position"],
        successor_salience=successor["salience"],
        new_capability=new["capability"],
        new_position=new["position"],
        new_salience=new["salience"],
        leader=index[scn.leader.faction],
    )


#: ``standing_channel`` values, in the order of :attr:`CaseInputs.standing`.
STANDING = ("none", "working_level", "diplomatic")


def _sender_calendar(
    scn: Scenario, v: dict[str, FloatArray], draws: int, months: int, as_of: int
) -> tuple[FloatArray, FloatArray]:
    """The sender's openness by month ``(B, T)`` and the months to its next election ``(T,)``,
    from the elections announced by the as-of month."""
    openness = np.repeat(v["sender_side.openness"][:, None], months, axis=1)
    gap = np.full(months, np.inf)
    elections = scn.sender_side.elections if scn.sender_side is not None else []
    t = np.arange(months)
    for k, election in enumerate(elections):
        if scn.month_index(election.known_from) > as_of:
            continue
        at = scn.month_index(election.month)
        ahead = np.where(t <= at, at - t, np.inf).astype(np.float64)
        gap = np.minimum(gap, ahead)
        if election.openness_after is not None and at + 1 < months:
            after = v[f"sender_side.elections[{k}].openness_after"]
            openness[:, at + 1 :] = after[:, None]
    return openness, gap


def _best_mediator(scn: Scenario, v: dict[str, FloatArray], draws: int) -> FloatArray:
    """m = max over mediators of sqrt(t_target t_sender): the best bridge both sides trust."""
    best = np.zeros(draws)
    for k in range(len(scn.mediators)):
        both = v[f"mediators[{k}].trusted_by_target"] * v[f"mediators[{k}].trusted_by_sender"]
        best = np.maximum(best, np.sqrt(both))
    return best


def _successor(scn: Scenario, v: dict[str, FloatArray], draws: int) -> dict[str, FloatArray]:
    """The successor's hazard and values (a zero hazard when the file gives no successor)."""
    names = ("hazard", "legitimacy_of_talks", "legacy_weight", "position", "salience")
    if scn.successor is None:
        return {n: np.zeros(draws) for n in names}
    return {n: v[f"successor.{n}"] for n in names}


def month_labels(scn: Scenario, months: int) -> list[str]:
    start = parse_month(scn.start)
    return [format_month(start + t) for t in range(months)]
