"""Edits of a scenario as data: pin, shift or scale an uncertain number, switch an event off or
rescale it, add or remove a pressure phase.

An edit names a place in the file by its path (``pressure.oil.timeline[1].enforcement``, as in
error messages and ``--set``). :func:`apply_edits` changes a parsed scenario in place; it works
on plain dicts and lists and on a round-trip YAML document alike (whose mappings are dicts), so
the same edits give the run's scenario and the downloaded file with the original's comments.
The edited data is then validated as a file is (:func:`detente.scenario.coercion.parse_scenario`).

Paths refer to the file as it was: value edits apply first, then removals (from the last index
down, so earlier indices stay valid), then added phases, each inserted in month order.
"""

from __future__ import annotations

import math
import re
from collections.abc import MutableMapping, MutableSequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from detente.errors import InputError

#: The assumption an edited number carries (the dashboard's "Save as new file" says the same).
EDITED = "set in the detente dashboard"
MAX_EDITS = 200
_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_DISTS = ("uniform", "normal", "triangular", "beta")

Op = Literal["pin", "shift", "scale", "off", "rescale", "remove_phase", "add_phase"]


class Edit(BaseModel):
    """One edit.

    - ``pin`` (value): the number becomes that value in every draw (a distribution no more).
    - ``shift`` (value): the whole distribution moves by ``value`` (bounds, mode or mean).
    - ``scale`` (value): the distribution's spread around its centre is multiplied by ``value``.
    - ``off``: the event at ``events[k]`` has no effect, in its place: size 0 and no faction
      changes (an election, which has no size, keeps only an empty ``changes``).
    - ``rescale`` (value): the event's size is multiplied by ``value`` (1 when it has none).
    - ``remove_phase``: the phase at ``pressure.C.timeline[k]`` is left out.
    - ``add_phase`` (month, intensity, enforcement): a phase of channel ``pressure.C`` from that
      month, announced at the scenario's start (in month order; after a phase of the same month).
    """

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=200)
    op: Op
    # non-finite numbers are refused by apply_edits, in one line (a validation error echoing
    # an infinity back could not be written as JSON)
    value: float | None = None
    month: str | None = Field(default=None, max_length=7)
    intensity: float | None = None
    enforcement: float | None = None


def parse_path(path: str) -> list[str | int]:
    """``a.b[2].c`` -> ``["a", "b", 2, "c"]``."""
    tokens: list[str | int] = []
    pos = 0
    for m in _TOKEN.finditer(path):
        gap = path[pos : m.start()]
        if gap not in ("", "."):
            break
        tokens.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if pos != len(path) or not tokens:
        raise ValueError(f"not a path like pressure.oil.timeline[1].enforcement: {path!r}")
    return tokens


def _resolve(data: Any, tokens: list[str | int]) -> Any:
    node = data
    for t in tokens:
        if isinstance(t, int) and isinstance(node, MutableSequence) and 0 <= t < len(node):
            node = node[t]
        elif isinstance(t, str) and isinstance(node, MutableMapping) and t in node:
            node = node[t]
        else:
            raise KeyError(t)
    return node


def _note(param: MutableMapping[str, Any], what: str) -> None:
    """Say in the number's own assumption what the dashboard did to it."""
    before = param.get("assumption")
    param["assumption"] = f"{before} ({what}: {EDITED})" if before else f"{what}: {EDITED}"


def _describe(param: MutableMapping[str, Any]) -> str:
    for kind in ("value", *_DISTS):
        if kind in param:
            args = param[kind]
            return f"{args:g}" if kind == "value" else f"{kind}{tuple(args)}"
    return "?"


def _pin(param: MutableMapping[str, Any], value: float, why: str = "pinned") -> None:
    was = _describe(param)
    rest = [(k, v) for k, v in param.items() if k not in ("value", *_DISTS, "range")]
    param.clear()  # rebuilt with the value first, where the distribution stood
    param["value"] = value
    param.update(rest)
    _note(param, f"{why}, was {was}")


def _shift(param: MutableMapping[str, Any], d: float) -> None:
    if "value" in param:
        param["value"] = param["value"] + d
    elif "uniform" in param or "triangular" in param:
        kind = "uniform" if "uniform" in param else "triangular"
        param[kind] = [a + d for a in param[kind]]
    elif "normal" in param:
        param["normal"] = [param["normal"][0] + d, param["normal"][1]]
    else:
        raise ValueError("a beta distribution on [0, 1] cannot be shifted; pin or scale it")
    _note(param, f"shifted by {d:+g}")


def _scale(param: MutableMapping[str, Any], k: float) -> None:
    if not k > 0:
        raise ValueError(f"a spread is scaled by a positive factor, got {k:g}")
    if "value" in param:
        raise ValueError("a single value has no spread to scale; pin or shift it")
    if "uniform" in param:
        lo, hi = param["uniform"]
        c = (lo + hi) / 2
        param["uniform"] = [c + (lo - c) * k, c + (hi - c) * k]
    elif "triangular" in param:
        lo, mode, hi = param["triangular"]
        param["triangular"] = [mode + (lo - mode) * k, mode, mode + (hi - mode) * k]
    elif "normal" in param:
        param["normal"] = [param["normal"][0], param["normal"][1] * k]
    else:
        # beta(a, b): the variance m(1-m)/(a+b+1) scales by k^2 at the same mean m
        a, b = param["beta"]
        m, n = a / (a + b), (a + b + 1) / (k * k) - 1
        if not n > 0:
            raise ValueError(f"beta({a:g}, {b:g}) cannot be widened {k:g} times")
        param["beta"] = [m * n, (1 - m) * n]
    _note(param, f"spread scaled by {k:g}")


def _rescale(event: MutableMapping[str, Any], k: float) -> None:
    if event.get("type") == "election":
        raise ValueError("an election has no size: switch it off instead")
    scale = event.get("scale")
    if not isinstance(scale, MutableMapping):
        event["scale"] = {"value": k, "assumption": f"rescaled by {k:g}: {EDITED}"}
        return
    for kind in ("value", *_DISTS):
        if kind in scale:
            if kind == "beta":
                raise ValueError("a beta-distributed size cannot be rescaled; pin it")
            args = scale[kind]
            scale[kind] = args * k if kind == "value" else [a * k for a in args]
    _note(scale, f"rescaled by {k:g}")


def _event(data: Any, op: str, tokens: list[str | int]) -> MutableMapping[str, Any]:
    """The event at ``events[k]``, for an edit that applies to one only."""
    event = None
    if len(tokens) == 2 and tokens[0] == "events" and isinstance(tokens[1], int):
        event = _resolve(data, tokens)
    if not isinstance(event, MutableMapping):
        raise ValueError(f"{op} applies to an event, events[k]")
    return event


def _switch_off(event: MutableMapping[str, Any]) -> None:
    """An event switched off stays in its place with size 0 and no faction changes: each
    number's random stream is keyed by its path (``events[k]...``), so removing it would hand the
    later events' streams on and move the comparison with the file by more than the event did.
    An election has no size: it keeps an empty ``changes`` (nobody gains or loses), and its
    source says it was switched off."""
    if event.get("type") == "election":
        if event.get("changes") != {}:  # once, however often it is switched off
            event["changes"] = {}
            event["source"] = f"{event.get('source', '')} (switched off: {EDITED})".lstrip()
        return
    scale = event.get("scale")
    if isinstance(scale, MutableMapping):
        _pin(scale, 0.0, "switched off")  # in place: the file's style and source kept
    else:
        event["scale"] = {"value": 0.0, "assumption": f"switched off: {EDITED}"}
    event.pop("changes", None)


def _need(edit: Edit, *fields: str) -> None:
    missing = [f for f in fields if getattr(edit, f) is None]
    if missing:
        raise ValueError(f"{edit.op} needs {', '.join(missing)}")
    for f in fields:
        value = getattr(edit, f)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{f}: expected a finite number")


def _apply_one(data: Any, edit: Edit, tokens: list[str | int]) -> None:
    if edit.op in ("pin", "shift", "scale"):
        _need(edit, "value")
        param = _resolve(data, tokens)
        if not isinstance(param, MutableMapping) or not any(k in param for k in ("value", *_DISTS)):
            raise ValueError("not a number of the scenario (value or distribution)")
        assert edit.value is not None
        if edit.op == "pin":
            _pin(param, edit.value)
        elif edit.op == "shift":
            _shift(param, edit.value)
        else:
            _scale(param, edit.value)
    elif edit.op == "off":
        _switch_off(_event(data, edit.op, tokens))
    elif edit.op == "rescale":
        _need(edit, "value")
        assert edit.value is not None
        _rescale(_event(data, edit.op, tokens), edit.value)


def _check_removal(data: Any, edit: Edit, tokens: list[str | int]) -> None:
    ok = len(tokens) == 4 and tokens[0] == "pressure" and tokens[2] == "timeline"
    if not ok or not isinstance(tokens[-1], int):
        raise ValueError(f"{edit.op} applies to a phase, pressure.C.timeline[k]")
    _resolve(data, tokens)


def _add_phase(data: Any, edit: Edit, tokens: list[str | int]) -> None:
    _need(edit, "month", "intensity", "enforcement")
    if not (len(tokens) == 2 and tokens[0] == "pressure"):
        raise ValueError("add_phase applies to a channel, pressure.C")
    # checked here, so a message names this edit rather than the place the phase lands at
    if not _MONTH.match(str(edit.month)):
        raise ValueError(f"month: expected YYYY-MM, got {edit.month!r}")
    for name in ("intensity", "enforcement"):
        if not 0.0 <= float(getattr(edit, name)) <= 1.0:
            raise ValueError(f"{name}: {getattr(edit, name):g} outside [0, 1]")
    channel = _resolve(data, tokens)
    timeline = channel.get("timeline") if isinstance(channel, MutableMapping) else None
    if not isinstance(timeline, MutableSequence):
        raise ValueError("the channel has no timeline")
    # announced at the start: a counterfactual of the whole episode, known to a forecaster from
    # its outset (a phase announced only in its own month would be invisible to a run from the
    # start, which sees only what was announced by then)
    phase = {
        "from": edit.month,
        "announced": str(data.get("start", edit.month)),
        "intensity": {"value": edit.intensity, "assumption": f"added phase: {EDITED}"},
        "enforcement": {"value": edit.enforcement, "assumption": f"added phase: {EDITED}"},
    }
    at = sum(1 for p in timeline if str(p.get("from", "")) <= str(edit.month))
    timeline.insert(at, phase)


def apply_edits(data: Any, edits: list[Edit], file: str = "edits") -> Any:
    """Apply ``edits`` to the parsed scenario ``data`` in place (and return it).

    A bad edit raises :class:`InputError` naming ``edits[i]`` and its path; the result is not yet
    validated as a scenario (the caller parses it as a file is parsed).
    """
    if len(edits) > MAX_EDITS:
        raise InputError(file, None, f"{len(edits)} edits: at most {MAX_EDITS}")
    parsed: list[tuple[int, Edit, list[str | int]]] = []
    for i, edit in enumerate(edits):
        try:
            parsed.append((i, edit, parse_path(edit.path)))
        except ValueError as exc:
            raise InputError(file, f"edits[{i}]", str(exc)) from None

    def attempt(i: int, edit: Edit, tokens: list[str | int], step: Any) -> None:
        try:
            step(data, edit, tokens)
        except KeyError:
            where = f"edits[{i}] {edit.path}"
            raise InputError(file, where, "no such place in the scenario") from None
        except (ValueError, TypeError) as exc:
            raise InputError(file, f"edits[{i}] {edit.path}", str(exc)) from None

    for i, edit, tokens in parsed:
        attempt(i, edit, tokens, _apply_one)
    removals = [(i, e, t) for i, e, t in parsed if e.op == "remove_phase"]
    for i, edit, tokens in removals:
        attempt(i, edit, tokens, _check_removal)
    # from the last index down (once each), so the file's indices stay valid while removing
    places = {tuple(t) for _, _, t in removals}
    for place in sorted(places, key=lambda t: -int(t[-1])):
        del _resolve(data, list(place[:-1]))[place[-1]]
    for i, edit, tokens in parsed:
        if edit.op == "add_phase":
            attempt(i, edit, tokens, _add_phase)
    return data
