"""Coercion scenarios: one episode of a sender pressing a target, as a validated model.

The file format is documented in ``docs/scenarios.md``; the mechanisms each block feeds are in
``docs/model.md`` (M1-M9). Every number is a :class:`~detente.scenario.params.Param`: a value or a
distribution, with a source or an assumption. Errors name the file and the path in it
(``factions[2].salience``), and are raised here, never in the numerical core.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from detente.errors import InputError
from detente.scenario.params import MONTH_PATTERN, Param, date_as_month
from detente.scenario.yamlio import first_of, load_yaml_text, problems_of, read_text


@dataclass(frozen=True)
class Range:
    """The allowed range of a parameter (checked against its distribution's support)."""

    low: float
    high: float


def _within(rng: Range) -> AfterValidator:
    """A check that a parameter's distribution stays inside ``rng`` (a normal: its mean), run
    with the other field checks so that ``detente check`` lists every problem at once."""

    def check(param: Param) -> Param:
        problem = _range_problem(param, rng)
        if problem:
            raise ValueError(problem)
        return param

    return AfterValidator(check)


P01 = Annotated[Param, Range(0.0, 1.0), _within(Range(0.0, 1.0))]
PSigned = Annotated[Param, Range(-1.0, 1.0), _within(Range(-1.0, 1.0))]
PPositive = Annotated[Param, Range(0.0, math.inf), _within(Range(0.0, math.inf))]
P100 = Annotated[Param, Range(0.0, 100.0), _within(Range(0.0, 100.0))]
PMonths = Annotated[Param, Range(0.0, 1200.0), _within(Range(0.0, 1200.0))]
PScale = Annotated[Param, Range(0.0, 3.0), _within(Range(0.0, 3.0))]

EventType = Literal[
    "deal_broken",
    "threat",
    "talks_offer",
    "summit_offer",
    "mediation_offer",
    "election",
    "talks_failed",
]
#: The channels through which talks open (docs/model.md, "Channels as competing risks").
ChannelName = Literal["public", "secret", "mediated"]
CHANNELS: tuple[str, ...] = ("public", "secret", "mediated")
#: What already links the two governments at the start.
StandingChannel = Literal["none", "working_level", "diplomatic"]
EngineName = Literal["compromise", "median", "eum", "exchange", "smp"]
# ASCII digits only: \d would take full-width and other scripts' digits, which int() reads
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)


def parse_month(text: str) -> int:
    """'2018-05' -> months since year 0 (an absolute month number)."""
    m = _MONTH.fullmatch(text) if isinstance(text, str) else None
    if not m or not 1 <= int(m.group(2)) <= 12:
        shown = repr(text) if len(repr(text)) <= 40 else repr(text)[:37] + "..."
        raise ValueError(f"expected a month as YYYY-MM, got {shown}")
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def format_month(absolute: int) -> str:
    return f"{absolute // 12:04d}-{absolute % 12 + 1:02d}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _month_field(v: str) -> str:
    parse_month(v)
    return v


#: A month, YYYY-MM (a YAML date is taken as its month).
Month = Annotated[
    str,
    BeforeValidator(date_as_month),
    AfterValidator(_month_field),
    WithJsonSchema({"type": "string", "pattern": MONTH_PATTERN}),
]


class Phase(_Strict):
    """From this month on (until the next phase), the channel's pressure; known from
    ``announced`` (default: its month)."""

    start: Month = Field(alias="from")
    announced: Month | None = None
    intensity: P01
    enforcement: P01
    note: str | None = None

    @property
    def known_from(self) -> str:
        return self.announced or self.start


class Channel(_Strict):
    """M1: a pressure channel (oil, finance, trade, ...) and the target's exposure to it."""

    exposure: P01
    timeline: list[Phase] = Field(min_length=1)


class Economy(_Strict):
    """M2: adaptation."""

    prior_experience: PMonths
    evasion_max: P01
    substitution_max: P01
    substitution_lag: PMonths


class Society(_Strict):
    """M3: pain -> discontent."""

    baseline_discontent: P01
    pain_to_discontent: PScale


class Leader(_Strict):
    """M4, M8: the veto player's calculus."""

    faction: str = Field(min_length=1)
    legitimacy_of_talks: PSigned
    legacy_weight: P01


class SenderImage(_Strict):
    """M6, M7: how the target sees the sender."""

    trust: P01
    regime_change_belief: P01
    demand_scope: P01


class Faction(_Strict):
    """M9: a domestic player on 'direct talks with the sender?' (0 refuse - 100 talks now)."""

    name: str = Field(min_length=1)
    capability: PPositive
    position: P100
    salience: P100
    wants_relief: P01
    veto: StrictBool = False


class FactionChange(_Strict):
    capability: PPositive | None = None
    position: P100 | None = None
    salience: P100 | None = None


class _Dated(_Strict):
    """Something in ``month`` that became known in ``announced`` (default: its month)."""

    month: Month
    announced: Month | None = None

    @property
    def known_from(self) -> str:
        return self.announced or self.month


class Event(_Dated):
    """Something that happens in ``month`` and became known in ``announced`` (default: month)."""

    type: EventType
    source: str = Field(min_length=1)
    by: str | None = None
    channel: ChannelName | None = None
    via: str | None = None
    scale: PScale | None = None
    changes: dict[str, FactionChange] | None = None


class SenderElection(_Dated):
    """An election in the sender's country, on the calendar by ``announced``."""

    source: str = Field(min_length=1)
    openness_after: P01 | None = None


class SenderSide(_Strict):
    """The sender's willingness to talk with this target (docs/model.md, "The sender's side")."""

    openness: P01
    domestic_cost: P01
    elections: list[SenderElection] = []  # pydantic copies a mutable default per instance


class Mediator(_Strict):
    """A third party that can carry messages or host talks, and how far each side trusts it."""

    name: str = Field(min_length=1)
    trusted_by_target: P01
    trusted_by_sender: P01


class Successor(_Strict):
    """A monthly chance that the leader is replaced (age, health, a lost war, a coup), and the
    successor's values."""

    hazard: P01
    legitimacy_of_talks: PSigned
    legacy_weight: P01
    position: P100
    salience: P100


#: Events that put talks on the table, and the channel each opens unless it says otherwise.
OFFER_TYPES: dict[str, str] = {
    "talks_offer": "public",
    "summit_offer": "public",
    "mediation_offer": "mediated",
}

#: The manual's names of the issue codes (TIES 4.0 Users' Manual, variable 12), for scenarios.
TIES_ISSUES = {
    "contain_political_influence": 1,
    "contain_military_behavior": 2,
    "destabilize_regime": 3,
    "release_citizens_property_or_material": 4,
    "solve_territorial_dispute": 5,
    "deny_strategic_materials": 6,
    "retaliate_for_alliance_choice": 7,
    "improve_human_rights": 8,
    "end_weapons_or_materials_proliferation": 9,
    "end_support_of_non_state_actors": 10,
    "deter_drug_trafficking": 11,
    "improve_environmental_policies": 12,
    "trade_practices": 13,
    "implement_economic_reform": 14,
    "other": 15,
}


class OutsideViewProfile(_Strict):
    """The episode in TIES terms, for the outside view (docs/validation.md); facts at the start."""

    us_sender: StrictBool
    multiple_senders: StrictBool
    institution: StrictBool
    threat_first: StrictBool
    imposed: StrictBool = True
    commitment: Literal["weak", "moderate", "strong"] | None = None
    carrots: StrictBool | None = None
    anticipated_costs: Literal["minor", "major", "severe"] | None = None
    issues: list[str] = []  # pydantic copies a mutable default per instance
    source: str = Field(min_length=1)


class Outcome(_Strict):
    """What happened (history), for backtests: never read by the model."""

    talks: StrictBool
    month: Month | None = None
    kind: Literal["direct", "mediated", "side", "none"]
    channel: ChannelName | None = None
    source: str = Field(min_length=1)


class Scenario(_Strict):
    """One coercion episode."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    title: str
    question: str
    sender: str
    target: str
    start: Month
    horizon: StrictInt = Field(ge=1, le=240)
    engine: EngineName = "compromise"
    pressure: dict[str, Channel] = Field(min_length=1)
    economy: Economy
    society: Society
    leader: Leader
    sender_image: SenderImage
    factions: list[Faction] = Field(min_length=2)
    events: list[Event] = []  # pydantic copies a mutable default per instance
    sender_side: SenderSide | None = None
    mediators: list[Mediator] = []  # pydantic copies a mutable default per instance
    standing_channel: StandingChannel = "none"
    successor: Successor | None = None
    outside_view: OutsideViewProfile | None = None
    outcome: Outcome | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        names = [f.name for f in self.factions]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise ValueError(f"faction {dup!r} appears twice")
        vetoes = [f.name for f in self.factions if f.veto]
        if vetoes != [self.leader.faction]:
            raise ValueError(
                f"exactly one faction must have veto: true, the leader's ({self.leader.faction!r});"
                f" found {vetoes}"
            )
        return self

    @property
    def start_month(self) -> int:
        return parse_month(self.start)

    def month_index(self, text: str) -> int:
        return parse_month(text) - self.start_month


def iter_params(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, Param, Range]]:
    """Every Param in a model, with its path in the file and its allowed range."""
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        key = info.alias or name
        path = f"{prefix}.{key}" if prefix else key
        rng = next((m for m in info.metadata if isinstance(m, Range)), None)
        if rng is None:
            # Optional[Annotated[Param, Range]] keeps the Range on the inner type
            rng = _range_in_annotation(info.annotation)
        yield from _walk(value, path, rng)


def _walk(value: Any, path: str, rng: Range | None) -> Iterator[tuple[str, Param, Range]]:
    if isinstance(value, Param):
        yield path, value, rng or Range(-math.inf, math.inf)
    elif isinstance(value, BaseModel):
        yield from iter_params(value, path)
    elif isinstance(value, list):
        for k, item in enumerate(value):
            yield from _walk(item, f"{path}[{k}]", rng)
    elif isinstance(value, dict):
        for k, item in value.items():
            yield from _walk(item, f"{path}.{k}", rng)


def _range_in_annotation(annotation: Any) -> Range | None:
    for arg in getattr(annotation, "__args__", ()) or ():
        for meta in getattr(arg, "__metadata__", ()) or ():
            if isinstance(meta, Range):
                return meta
    return None


def check_ranges(scn: Scenario, file: str) -> None:
    """Each parameter's distribution must stay inside the quantity's allowed range."""
    for problem in range_problems(scn, file):
        raise problem


def range_problems(scn: Scenario, file: str) -> Iterator[InputError]:
    """Every parameter whose distribution leaves the quantity's allowed range."""
    for path, param, rng in iter_params(scn):
        problem = _range_problem(param, rng)
        if problem:
            yield InputError(file, path, problem)


def _range_problem(param: Param, rng: Range) -> str | None:
    if param.normal is not None:
        mean = param.normal[0]
        if not rng.low <= mean <= rng.high:
            return f"normal mean {mean:g} outside the allowed {_fmt(rng)}"
        return None
    lo, hi = param.support()
    if lo < rng.low or hi > rng.high:
        return f"{param.describe()} outside the allowed {_fmt(rng)}"
    return None


def _fmt(rng: Range) -> str:
    hi = "inf" if math.isinf(rng.high) else f"{rng.high:g}"
    return f"range [{rng.low:g}, {hi}]"


def check_references(scn: Scenario, file: str) -> None:
    """Months inside the run, faction names that exist."""
    for problem in reference_problems(scn, file):
        raise problem


def reference_problems(scn: Scenario, file: str) -> Iterator[InputError]:
    """Every month outside the run, name that refers to nothing, and block out of order."""
    names = {f.name for f in scn.factions}
    for ch_name, ch in scn.pressure.items():
        starts = [parse_month(p.start) for p in ch.timeline]
        if starts != sorted(starts):
            yield InputError(file, f"pressure.{ch_name}.timeline", "phases must be in date order")
    mediators = [m.name for m in scn.mediators]
    if len(set(mediators)) != len(mediators):
        dup = next(n for n in mediators if mediators.count(n) > 1)
        yield InputError(file, "mediators", f"mediator {dup!r} appears twice")
    for k, ev in enumerate(scn.events):
        if scn.month_index(ev.month) < 0:
            yield InputError(file, f"events[{k}].month", f"{ev.month} is before start {scn.start}")
        if ev.via is not None and ev.via not in mediators:
            known = ", ".join(mediators) if mediators else "none defined under 'mediators:'"
            yield InputError(
                file, f"events[{k}].via", f"no such mediator {ev.via!r} (known: {known})"
            )
        if ev.channel is not None and ev.type not in OFFER_TYPES:
            yield InputError(
                file,
                f"events[{k}].channel",
                f"only an offer ({', '.join(OFFER_TYPES)}) opens a channel",
            )
        for name in ev.changes or {}:
            if name not in names:
                yield InputError(file, f"events[{k}].changes.{name}", "no such faction")
        if ev.scale is not None and ev.type == "election":
            yield InputError(
                file, f"events[{k}].scale", "an election has no size: its effect is its 'changes'"
            )
        # an explicit empty mapping is an election that changed nobody (or one switched off)
        if ev.changes is None and ev.type == "election":
            yield InputError(
                file, f"events[{k}].changes", "an election needs 'changes' (who gains, who loses)"
            )
    if scn.outside_view is not None:
        for k, issue in enumerate(scn.outside_view.issues):
            if issue not in TIES_ISSUES:
                yield InputError(
                    file,
                    f"outside_view.issues[{k}]",
                    f"unknown issue {issue!r}; one of {', '.join(TIES_ISSUES)}",
                )


def scenario_problems(data: Any, file: str) -> tuple[Scenario | None, list[InputError]]:
    """Already-parsed YAML data as a scenario, and every problem found in it (one line each).

    Field errors come first (all of them); ranges and references are checked only when every
    field is valid, since they need the whole model.
    """
    if data is None:
        return None, [InputError(file, None, "empty file; expected a coercion scenario")]
    if not isinstance(data, dict):
        return None, [InputError(file, "(top level)", "expected a mapping: a coercion scenario")]
    try:
        scn = Scenario.model_validate(data)
    except ValidationError as exc:
        return None, problems_of(file, exc, Scenario)
    problems = list(reference_problems(scn, file))
    return (None, problems) if problems else (scn, [])


def check_scenario_file(path: str | Path) -> list[InputError]:
    """Every problem of a scenario file, one line each; [] when it is valid (``detente check``)."""
    p = Path(path)
    if p.suffix.lower() not in (".yaml", ".yml"):
        return [InputError(str(p), None, "a scenario is a .yaml file")]
    try:
        data = load_yaml_text(read_text(p), str(p))
    except InputError as exc:
        return [exc]
    return scenario_problems(data, str(p))[1]


def check_scenario_text(text: str, name: str = "<scenario>") -> list[InputError]:
    """Every problem of a scenario given as YAML text (the web API's form); [] when valid."""
    try:
        data = load_yaml_text(text, name)
    except InputError as exc:
        return [exc]
    return scenario_problems(data, name)[1]


def parse_scenario(data: Any, file: str) -> Scenario:
    """Validate already-parsed YAML data as a scenario: the first problem, and how many more."""
    scn, problems = scenario_problems(data, file)
    if scn is None:
        raise first_of(problems)
    return scn


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (YAML)."""
    p = Path(path)
    if p.suffix.lower() not in (".yaml", ".yml"):
        raise InputError(str(p), None, "a scenario is a .yaml file")
    return parse_scenario(load_yaml_text(read_text(p), str(p)), str(p))


def scenario_from_text(text: str, name: str = "<scenario>") -> Scenario:
    """Validate a scenario given as YAML text (the web API)."""
    return parse_scenario(load_yaml_text(text, name), name)
