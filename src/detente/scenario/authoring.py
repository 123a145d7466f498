"""Writing a scenario: a complete starting file, every problem of a file at once, and the schema.

``detente new``, ``detente check`` and ``detente schema`` call these; so can a notebook or an
editor plug-in. The starting file runs as it is, but every number in it is an assumption to
replace (each says so, with the range it was guessed in); its comments say what each block
means, in the words of ``docs/scenarios.md``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from detente.errors import InputError
from detente.scenario.coercion import Scenario, parse_month, scenario_problems
from detente.scenario.yamlio import load_yaml_text, read_text

_ID = re.compile(r"[A-Za-z0-9_.-]+", re.ASCII)

#: Where the schema says it follows (JSON Schema draft 2020-12, what pydantic writes).
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file, from the validating model (keys as written in files).

    It checks the shape (keys, types, months as YYYY-MM); ranges of parameters and references
    between blocks are checked by ``detente check``.
    """
    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": SCHEMA_DIALECT, **schema}


def check_file(path: str | Path) -> list[InputError]:
    """Every problem of a scenario file (or of an actor table, whose readers stop at the first),
    one line each; [] when the file is valid."""
    from detente.scenario.actors import actor_yaml_problems, load_actor_file

    p = Path(path)
    if p.suffix.lower() in (".yaml", ".yml"):
        try:
            data = load_yaml_text(read_text(p), str(p))
        except InputError as exc:
            return [exc]
        # an actor table in YAML has 'actors' and 'issues' and no 'factions'
        if not (isinstance(data, dict) and "issues" in data and "factions" not in data):
            return scenario_problems(data, str(p))[1]
        problems = actor_yaml_problems(data, str(p))
        if problems:
            return problems
    try:
        load_actor_file(p)
    except InputError as exc:
        return [exc]
    return []


def _yaml_str(text: str) -> str:
    """A YAML string: JSON's double-quoted form is valid YAML and escapes everything."""
    return json.dumps(text, ensure_ascii=False)


def _assumed(value: float, low: float, high: float, what: str) -> str:
    return f"{{value: {value:g}, assumption: {_yaml_str(what)}, range: [{low:g}, {high:g}]}}"


def new_scenario_text(scenario_id: str, sender: str, target: str, start: str) -> str:
    """A complete scenario file that validates and runs, every number an assumption to replace.

    ``scenario_id`` is letters, digits, ``.``, ``_`` and ``-``; ``start`` a month, YYYY-MM.
    """
    if not _ID.fullmatch(scenario_id):
        raise InputError(
            "ID", None, f"use only letters, digits, '.', '_' and '-', got {scenario_id!r}"
        )
    for name, value in (("--sender", sender), ("--target", target)):
        if not value.strip():
            raise InputError(name, None, "must not be empty")
    try:
        parse_month(start)
    except ValueError as exc:
        raise InputError("--start", None, str(exc)) from None
    a = "placeholder, to replace"
    return f"""\
# A coercion episode for detente (docs/scenarios.md). Every number below is an ASSUMPTION to
# replace: give a source ({{value: 0.4, source: "..."}}) or a distribution
# ({{uniform: [0.3, 0.5], assumption: "..."}}). Check it with `detente check FILE`, run it with
# `detente run FILE`.
id: {scenario_id}
title: {_yaml_str(f"{target} under pressure from {sender}, from {start}")}
question: {_yaml_str(f"Will {target} enter direct talks with {sender}?")}
sender: {_yaml_str(sender)}
target: {_yaml_str(target)}
start: {start}                   # YYYY-MM: month 0 of the run
horizon: 24                       # months to forecast (1-240)
engine: compromise                # how the factions' positions combine (M9)

# M1: the pressure, one entry per channel (any names: oil, finance, trade, ...). Exposure is the
# share of the target's economy the channel reaches; each phase lasts until the next one.
pressure:
  trade:
    exposure: {_assumed(0.3, 0.1, 0.6, a)}
    timeline:
      - from: {start}
        intensity: {_assumed(0.5, 0.2, 0.9, a)}     # 0-1: how hard the measures bite
        enforcement: {_assumed(0.5, 0.2, 0.9, a)}   # 0-1: share of the world enforcing them

# M2: how the economy adapts (evasion, substitution).
economy:
  prior_experience: {_assumed(0, 0, 24, a)}   # months of full sanctions before the start
  evasion_max: {_assumed(0.3, 0.1, 0.6, a)}   # 0-1
  substitution_max: {_assumed(0.3, 0.1, 0.6, a)}   # 0-1
  substitution_lag: {_assumed(12, 6, 24, a)}   # months

# M3: how economic pain turns into discontent.
society:
  baseline_discontent: {_assumed(0.3, 0.1, 0.5, a)}   # 0-1
  pain_to_discontent: {_assumed(1, 0.5, 1.5, a)}   # 0-3

# M4, M8: the leader who can veto talks (a faction below with veto: true).
leader:
  faction: Leader
  legitimacy_of_talks: {_assumed(0, -0.5, 0.5, a)}   # -1 (talks are betrayal) .. 1 (a virtue)
  legacy_weight: {_assumed(0.5, 0.2, 0.8, a)}   # 0-1: weight of the leader's past stance

# M6, M7: how the target sees the sender.
sender_image:
  trust: {_assumed(0.3, 0.1, 0.5, a)}   # 0-1
  regime_change_belief: {_assumed(0.3, 0.1, 0.6, a)}   # 0-1: the sender wants the regime gone
  demand_scope: {_assumed(0.5, 0.2, 0.8, a)}   # 0-1: how much the sender demands

# M9: the domestic players on "direct talks with the sender?" (position 0 = refuse, 100 = talk
# now); at least two, exactly one with veto: true (the leader's).
factions:
  - name: Leader
    veto: true
    capability: {_assumed(50, 30, 70, a)}   # >= 0, relative weight
    position: {_assumed(30, 10, 50, a)}   # 0-100
    salience: {_assumed(80, 60, 100, a)}   # 0-100: how much the question matters to it
    wants_relief: {_assumed(0.3, 0.1, 0.5, a)}   # 0-1: how much pain raises its voice
  - name: Hardliners
    capability: {_assumed(30, 10, 50, a)}
    position: {_assumed(10, 0, 30, a)}
    salience: {_assumed(70, 50, 90, a)}
    wants_relief: {_assumed(0.2, 0, 0.4, a)}
  - name: Pragmatists
    capability: {_assumed(20, 10, 40, a)}
    position: {_assumed(70, 50, 90, a)}
    salience: {_assumed(60, 40, 80, a)}
    wants_relief: {_assumed(0.7, 0.5, 0.9, a)}

# Events: facts with a month and a source (threat, talks_offer, summit_offer, mediation_offer,
# deal_broken, election, talks_failed). For example:
#   - {{month: {start}, type: threat, source: "..."}}
events: []
"""
