"""Actor tables: the capability, position and salience of each actor on one or more issues.

Two file forms (``docs/engines.md`` shows both):

* CSV, one row per actor: ``actor,capability,position,salience`` and optionally ``risk``
  (Bueno de Mesquita's risk attitude R in [-1, 1]), ``veto`` (true/false, 1/0, yes/no) and
  ``source``. One issue per file.
* YAML, several issues in one file, every value with its source.

Either way the result is an :class:`ActorFile` of validated :class:`Issue` objects; anything
else is an :class:`~detente.errors.InputError` naming the file, the row or path, and the field.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from detente.engines.base import ActorArrays
from detente.errors import InputError
from detente.scenario.csvio import csv_rows, number_problem, parse_number, sniff_separator
from detente.scenario.limits import MAX_MAGNITUDE, MIN_MAGNITUDE, tiny
from detente.scenario.yamlio import (
    first_of,
    load_yaml_text,
    plain_words,
    problems_of,
    read_text,
    validate_mapping,
)

REQUIRED_COLUMNS = ("actor", "capability", "position", "salience")
OPTIONAL_COLUMNS = ("risk", "veto", "source")
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f", ""}

#: A number as written (no string, no bool), finite.
Finite = Annotated[float, Strict(), Field(allow_inf_nan=False)]
#: ... and within +-MAX_MAGNITUDE, so that the engines' sums of capability x salience x position
#: cannot overflow (capabilities are bounded by the same number).
Bounded = Annotated[Finite, Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE)]


def _not_tiny(value: float) -> float:
    if tiny(value):
        raise ValueError(
            f"{value:g}: give 0 or at least {MIN_MAGNITUDE:g} (a smaller weight underflows to 0 in"
            " capability x salience; only ratios matter, so scale every actor up)"
        )
    return value


#: A capability or salience: 0, or at least MIN_MAGNITUDE, so that their product cannot underflow.
Weight = Annotated[Finite, AfterValidator(_not_tiny)]


class Actor(BaseModel):
    """One actor on one issue."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    capability: Weight = Field(ge=0, le=MAX_MAGNITUDE)
    position: Bounded
    salience: Weight = Field(ge=0, le=100)
    risk: Finite | None = Field(default=None, ge=-1, le=1)
    veto: StrictBool = False
    source: str | None = None


class Issue(BaseModel):
    """The actors of one decision."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    question: str | None = None
    scale: str | None = None
    actors: list[Actor] = Field(min_length=1)
    #: The ends of the position scale, where a file gives them (DECIDE's ``#M`` rows).
    lower: Bounded | None = None
    upper: Bounded | None = None

    @model_validator(mode="after")
    def _unique_names(self) -> Issue:
        if self.lower is not None and self.upper is not None and self.upper <= self.lower:
            raise ValueError("upper end of the scale must exceed the lower end")
        seen: set[str] = set()
        for actor in self.actors:
            if actor.name in seen:
                raise ValueError(f"actor {actor.name!r} appears twice")
            seen.add(actor.name)
        return self

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.actors]

    def arrays(self) -> ActorArrays:
        """The table as a single-draw :class:`ActorArrays` (salience rescaled to 0-1)."""
        risk = [math.nan if a.risk is None else a.risk for a in self.actors]
        return ActorArrays.from_1d(
            capability=[a.capability for a in self.actors],
            position=[a.position for a in self.actors],
            salience=[a.salience / 100.0 for a in self.actors],
            risk=None if all(math.isnan(r) for r in risk) else risk,
            veto=[a.veto for a in self.actors] if any(a.veto for a in self.actors) else None,
        )


class ActorFile(BaseModel):
    """What an actor-table file holds."""

    model_config = ConfigDict(extra="forbid")

    path: str
    title: str | None = None
    issues: list[Issue] = Field(min_length=1)
    #: Every actor once, in the file's order (the exchange model breaks exact ties by it).
    actor_order: list[str] | None = None

    def actor_names(self) -> list[str]:
        """The actors of all issues: ``actor_order`` if given, else by first appearance."""
        if self.actor_order is not None:
            return list(self.actor_order)
        names: dict[str, None] = {}
        for issue in self.issues:
            names.update(dict.fromkeys(issue.names))
        return list(names)


def load_actor_file(path: str | Path) -> ActorFile:
    """Read a CSV or YAML actor table (by extension: .csv, or .yaml/.yml), or a DECIDE file
    (``#A/#P/#M/#D`` rows; any extension, recognised by its first row).

    A CSV file whose first line is KTAB's scenario line is read in KTAB's format
    (:mod:`detente.scenario.ktab`), one issue per dimension.
    """
    p = Path(path)
    try:
        return _read_actor_file(p)
    except ValidationError as exc:
        # each reader checks its own fields first; this is the net for what a reader missed
        raise first_of(problems_of(str(p), exc)) from None


def _read_actor_file(p: Path) -> ActorFile:
    from detente.scenario.decide import looks_like_decide, read_decide

    if not p.is_file():
        read_text(p)  # says why: no such file, a directory, a pipe or a device
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv", "") and looks_like_decide(read_text(p)):
        return read_decide(p)
    if suffix == ".csv":
        from detente.scenario.ktab import is_ktab_csv, read_ktab_csv  # ktab imports this module

        text = read_text(p)
        return read_ktab_csv(p, text) if is_ktab_csv(text) else read_actor_csv(p)
    if suffix in (".yaml", ".yml"):
        return read_actor_yaml(p)
    raise InputError(
        str(p), None, "unknown file type; expected .csv or .yaml/.yml, or a DECIDE file (#A rows)"
    )


def read_actor_csv(path: Path) -> ActorFile:
    """Read ``actor,capability,position,salience[,risk][,veto][,source]``, one row per actor."""
    text = read_text(path)
    file = str(path)
    numbered = csv_rows(text, file, delimiter=sniff_separator(text))
    rows = [r for _, r in numbered]
    if not rows:
        raise InputError(
            file, None, "empty file; expected a header row " + ",".join(REQUIRED_COLUMNS)
        )
    header = [h.strip().lower() for h in rows[0]]
    for col in REQUIRED_COLUMNS:
        if col not in header:
            raise InputError(file, "header", f"missing column '{col}'")
    for col in header:
        if col not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS:
            allowed = ", ".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
            raise InputError(file, "header", f"unknown column '{col}'; expected {allowed}")
    if len(set(header)) != len(header):
        raise InputError(file, "header", "a column name appears twice")
    if len(rows) == 1:
        raise InputError(file, None, "no actors: the file has a header but no rows")
    actors = []
    seen: dict[str, int] = {}
    for line, row in numbered[1:]:
        cells = dict(zip(header, row, strict=False))
        if len(row) != len(header):
            raise InputError(file, f"row {line}", f"{len(row)} cells, expected {len(header)}")
        actor = _csv_actor(file, line, cells)
        if actor.name in seen:
            raise InputError(
                file,
                f"row {line}, field 'actor'",
                f"duplicated actor {actor.name!r} (row {seen[actor.name]})",
            )
        seen[actor.name] = line
        actors.append(actor)
    issue = Issue(id=path.stem, actors=actors)
    return ActorFile(path=file, issues=[issue])


def _csv_actor(file: str, line: int, cells: dict[str, str]) -> Actor:
    def where(field: str) -> str:
        return f"row {line}, field '{field}'"

    name = cells["actor"]
    if not name:
        raise InputError(file, where("actor"), "empty actor name")
    values: dict[str, object] = {"name": name}
    for field in ("capability", "position", "salience", "risk"):
        raw = cells.get(field, "")
        if field == "risk" and raw == "":
            continue
        value = parse_number(raw)
        if value is None:
            raise InputError(file, where(field), number_problem(raw))
        values[field] = value
    veto = cells.get("veto", "").lower()
    if veto not in _TRUE | _FALSE:
        raise InputError(file, where("veto"), f"expected true/false, got {cells['veto'][:40]!r}")
    values["veto"] = veto in _TRUE
    if cells.get("source"):
        values["source"] = cells["source"]
    try:
        return Actor.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "row"
        raise InputError(file, where(field), _range_message(field, err)) from None


def _range_message(field: str, err: ErrorDetails) -> str:
    expected = {
        "capability": f"a capability from 0 to {MAX_MAGNITUDE:g}",
        "position": f"a position within +-{MAX_MAGNITUDE:g}",
        "salience": "a salience from 0 to 100",
        "risk": "a risk attitude from -1 to 1",
    }.get(field)
    value = err.get("input")
    got = f"{value:g}" if isinstance(value, float) else repr(value)
    if err["type"] == "value_error" or not expected:
        return plain_words(err, Actor)
    return f"expected {expected}, got {got}"


class _YamlActor(BaseModel):
    model_config = ConfigDict(extra="forbid")
    capability: Weight = Field(ge=0, le=MAX_MAGNITUDE)
    veto: StrictBool = False
    risk: Finite | None = Field(default=None, ge=-1, le=1)
    source: str | None = None


class _YamlStance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    position: Bounded
    salience: Weight = Field(ge=0, le=100)
    source: str | None = None


#: An actor's name as a key of the YAML form (an empty key would make an actor with no name).
ActorName = Annotated[str, Field(min_length=1)]


class _YamlIssue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    question: str | None = None
    scale: str | None = None
    positions: dict[ActorName, _YamlStance] = Field(min_length=1)


class _YamlFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = None
    source: str | None = None
    actors: dict[ActorName, _YamlActor] = Field(min_length=1)
    issues: list[_YamlIssue] = Field(min_length=1)


def actor_yaml_problems(data: object, file: str) -> list[InputError]:
    """Every field problem of a parsed YAML actor table (``detente check``); [] if none."""
    if not isinstance(data, dict):
        return [InputError(file, "(top level)", "expected a mapping: 'actors' and 'issues'")]
    try:
        _YamlFile.model_validate(data)
    except ValidationError as exc:
        return problems_of(file, exc, _YamlFile)
    return []


def read_actor_yaml(path: Path) -> ActorFile:
    """Read the YAML form: ``actors`` (capability, veto, risk, source) and ``issues``."""
    file = str(path)
    data = load_yaml_text(read_text(path), file)
    parsed = validate_mapping(data, _YamlFile, file, "'actors' and 'issues'")
    issues = []
    ids: set[str] = set()
    for k, issue in enumerate(parsed.issues):
        if issue.id in ids:
            raise InputError(file, f"issues[{k}].id", f"issue id {issue.id!r} appears twice")
        ids.add(issue.id)
        actors = []
        for name, stance in issue.positions.items():
            if name not in parsed.actors:
                raise InputError(
                    file, f"issues[{k}].positions.{name}", "not one of the file's 'actors'"
                )
            base = parsed.actors[name]
            source = "; ".join(s for s in (base.source, stance.source) if s) or None
            actors.append(
                Actor(
                    name=name,
                    capability=base.capability,
                    position=stance.position,
                    salience=stance.salience,
                    risk=base.risk,
                    veto=base.veto,
                    source=source,
                )
            )
        issues.append(Issue(id=issue.id, question=issue.question, scale=issue.scale, actors=actors))
    return ActorFile(path=file, title=parsed.title, issues=issues, actor_order=list(parsed.actors))
