"""Scenario edits (pin, shift, scale, events, phases) and the dashboard's exploring endpoints, with
their limits: every bad edit is a 422 with one line naming the field."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from detente.errors import InputError
from detente.forecast import run_scenario
from detente.scenario.coercion import parse_scenario, scenario_from_text
from detente.scenario.edits import MAX_EDITS, Edit, apply_edits, parse_path
from detente.scenario.yamlio import load_yaml_text
from detente.store import RunStore
from detente.web import create_app
from detente.web.explore import MAX_DISCOVER_DRAWS

from .conftest import ROOT

IRAN = ROOT / "examples" / "cases" / "iran-2018.yaml"
TEXT = IRAN.read_text(encoding="utf-8")
ENF = "pressure.oil.timeline[1].enforcement"


def _edited(*edits: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = apply_edits(load_yaml_text(TEXT, "t"), [Edit(**e) for e in edits])
    return data


def test_paths() -> None:
    assert parse_path("pressure.oil.timeline[1].enforcement") == [
        "pressure", "oil", "timeline", 1, "enforcement",
    ]  # fmt: skip
    assert parse_path("events[3]") == ["events", 3]
    for bad in ("", "a..b", "a[x]", "a[1"):
        with pytest.raises(ValueError, match="not a path"):
            parse_path(bad)


def test_pin_shift_and_scale_a_distribution() -> None:
    data = _edited({"path": ENF, "op": "pin", "value": 0.6})
    enf = data["pressure"]["oil"]["timeline"][1]["enforcement"]
    assert enf["value"] == 0.6 and "uniform" not in enf
    assert enf["assumption"].endswith(
        "(pinned, was uniform(0.4, 0.8): set in the detente dashboard)"
    )
    data = _edited({"path": ENF, "op": "shift", "value": 0.1})
    assert data["pressure"]["oil"]["timeline"][1]["enforcement"]["uniform"] == pytest.approx(
        [0.5, 0.9]
    )
    data = _edited({"path": ENF, "op": "scale", "value": 0.5})
    assert data["pressure"]["oil"]["timeline"][1]["enforcement"]["uniform"] == pytest.approx(
        [0.5, 0.7]
    )
    # a point value shifts but has no spread to scale
    data = _edited({"path": "pressure.oil.timeline[0].intensity", "op": "shift", "value": -0.25})
    assert data["pressure"]["oil"]["timeline"][0]["intensity"]["value"] == 0.25
    with pytest.raises(
        InputError, match=r"edits\[0\] pressure.oil.timeline\[0\].intensity: a single"
    ):
        _edited({"path": "pressure.oil.timeline[0].intensity", "op": "scale", "value": 2})


def test_other_distributions() -> None:
    data: dict[str, Any] = {
        "a": {"triangular": [0, 1, 4], "source": "s"},
        "b": {"normal": [5, 2], "source": "s"},
        "c": {"beta": [2, 2], "source": "s"},
    }
    ops = [Edit(path=p, op="scale", value=0.5) for p in "abc"] + [
        Edit(path="a", op="shift", value=1), Edit(path="b", op="shift", value=1),
    ]  # fmt: skip
    apply_edits(data, ops)
    assert data["a"]["triangular"] == [1.5, 2, 3.5]  # around the mode, then shifted
    assert data["b"]["normal"] == [6, 1]
    # beta(2, 2): variance 1/20; halving the sd at the same mean: a + b + 1 = 4 * 5
    assert data["c"]["beta"] == pytest.approx([9.5, 9.5])
    with pytest.raises(InputError, match="beta distribution on \\[0, 1\\] cannot be shifted"):
        apply_edits(data, [Edit(path="c", op="shift", value=0.1)])


def test_events_and_phases() -> None:
    data = _edited(
        {"path": "events[0]", "op": "off"},
        {"path": "events[6]", "op": "rescale", "value": 0.5},
        {"path": "events[1]", "op": "rescale", "value": 2},
        {"path": "pressure.oil.timeline[2]", "op": "remove_phase"},
        {"path": "pressure.oil", "op": "add_phase", "month": "2018-09", "intensity": 1,
         "enforcement": 0.2},
    )  # fmt: skip
    events = data["events"]
    # the deal_broken event is switched off in its place: size 0 (the others keep their paths)
    assert len(events) == 7 and events[0]["type"] == "deal_broken"
    assert events[0]["scale"]["value"] == 0.0
    assert events[1]["scale"]["value"] == 2  # a threat without a size: size 1, doubled
    assert events[6]["scale"]["uniform"] == [0.75, 1.5]  # Soleimani's threat, halved
    phases = data["pressure"]["oil"]["timeline"]
    assert [p["from"] for p in phases] == ["2018-05", "2018-09", "2018-11"]
    assert phases[1]["announced"] == "2018-05"  # known from the start: a counterfactual
    scn = parse_scenario(json.loads(json.dumps(data)), "edited")
    assert len(scn.pressure["oil"].timeline) == 3


def test_removals_refer_to_the_file_as_it_was() -> None:
    data = _edited(
        {"path": "events[1]", "op": "off"},
        {"path": "events[4]", "op": "off"},
        {"path": "events[1]", "op": "off"},  # twice is once
    )
    sizes = [e.get("scale", {}).get("value") for e in data["events"]]
    assert len(data["events"]) == 7
    assert [k for k, v in enumerate(sizes) if v == 0.0] == [1, 4]


def test_an_event_switched_off_leaves_the_other_events_draws_alone() -> None:
    """Each number's random stream is keyed by its path: switching event 0 off must not hand
    the later events' streams on (the comparison with the file would move by more than the
    event did)."""
    from detente.scenario.sample import draw_params

    base = parse_scenario(load_yaml_text(TEXT, "t"), "t")
    off = parse_scenario(json.loads(json.dumps(_edited({"path": "events[0]", "op": "off"}))), "e")
    a, b = draw_params(base, 200, 7), draw_params(off, 200, 7)
    assert np.array_equal(a["events[6].scale"], b["events[6].scale"])
    assert not b["events[0].scale"].any()


@pytest.mark.parametrize(
    "case",
    sorted(
        p.stem
        for p in (ROOT / "examples" / "cases").glob("*.yaml")
        if "type: election" in p.read_text(encoding="utf-8")
    ),  # fmt: skip
)
def test_an_election_switched_off_keeps_its_place_and_the_other_draws(case: str) -> None:
    """An election has no size: switched off, it keeps its place with nobody gaining or losing,
    so every other number keeps its random stream."""
    from detente.scenario.sample import draw_params

    text = (ROOT / "examples" / "cases" / f"{case}.yaml").read_text(encoding="utf-8")
    data = load_yaml_text(text, case)
    k = next(i for i, e in enumerate(data["events"]) if e["type"] == "election")
    edits = [Edit(path=f"events[{k}]", op="off")] * 2  # twice is once
    off = apply_edits(load_yaml_text(text, case), edits)
    assert len(off["events"]) == len(data["events"]) and off["events"][k]["changes"] == {}
    assert off["events"][k]["source"].count("switched off") == 1
    base = parse_scenario(data, case)
    edited = parse_scenario(json.loads(json.dumps(off)), case)
    a, b = draw_params(base, 100, 3), draw_params(edited, 100, 3)
    mine = f"events[{k}]."
    assert not [p for p in b if p.startswith(mine)]  # its faction changes are gone
    others = [p for p in a if not p.startswith(mine)]
    assert others and sorted(others) == sorted(b)
    assert all(np.array_equal(a[p], b[p]) for p in others)


def test_an_election_must_say_its_changes_but_may_change_nobody() -> None:
    data = load_yaml_text(TEXT, "t")
    data["events"].append({"month": "2019-06", "type": "election", "source": "x"})
    with pytest.raises(InputError, match="an election needs 'changes'"):
        parse_scenario(json.loads(json.dumps(data)), "t")
    data["events"][-1]["changes"] = {}
    assert parse_scenario(json.loads(json.dumps(data)), "t").events[-1].changes == {}
    # it has no size: a size written on it would change nothing, so it is refused
    data["events"][-1]["scale"] = {"value": 2, "assumption": "x"}
    with pytest.raises(InputError, match=r"events\[\d+\]\.scale: an election has no size"):
        parse_scenario(data, "t")
    k = len(data["events"]) - 1
    with pytest.raises(InputError, match="an election has no size: switch it off instead"):
        apply_edits(data, [Edit(path=f"events[{k}]", op="rescale", value=0.5)])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"path": "pressure.gas.exposure", "op": "pin", "value": 1}, "no such place"),
        ({"path": "pressure.oil", "op": "pin", "value": 1}, "not a number of the scenario"),
        ({"path": ENF, "op": "pin"}, "pin needs value"),
        ({"path": ENF, "op": "scale", "value": 0}, "positive factor"),
        ({"path": ENF, "op": "off"}, "off applies to an event"),
        ({"path": "events[0]", "op": "remove_phase"}, "remove_phase applies to a phase"),
        ({"path": "events[9]", "op": "off"}, "no such place"),
        ({"path": "pressure.oil.timeline", "op": "add_phase", "month": "2019-01", "intensity": 1,
          "enforcement": 1}, "add_phase applies to a channel"),
    ],
)  # fmt: skip
def test_bad_edits_name_the_edit(edit: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        _edited(edit)
    assert str(info.value).startswith("edits: edits[0]")


def test_too_many_edits() -> None:
    edits = [Edit(path=ENF, op="shift", value=0)] * (MAX_EDITS + 1)
    with pytest.raises(InputError, match=f"at most {MAX_EDITS}"):
        apply_edits({}, edits)


# ---- the endpoints ----


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    app = create_app(ROOT / "examples" / "cases", tmp_path / "runs.sqlite")
    return TestClient(app, base_url="http://localhost")


def test_explore_runs_the_file_and_the_edit_with_the_same_draws(client: TestClient) -> None:
    edits = [{"path": ENF, "op": "pin", "value": 0.0}, {"path": "events[0]", "op": "off"}]
    res = client.post(
        "/api/explore", json={"scenario": TEXT, "edits": edits, "draws": 300, "seed": 4}
    )
    assert res.status_code == 200
    doc = res.json()
    base = run_scenario(scenario_from_text(TEXT), 300, 4).to_dict()
    assert json.dumps(doc["baseline"]) == json.dumps(json.loads(json.dumps(base)))
    edited = scenario_from_text(json.dumps(_edited(*edits)))
    assert doc["edited"]["horizons"] == run_scenario(edited, 300, 4).to_dict()["horizons"]
    for h, d in doc["difference"]["horizons"].items():
        assert d["p"] == doc["edited"]["horizons"][h]["p"] - doc["baseline"]["horizons"][h]["p"]
        assert set(d["by_channel"]) == {"public", "secret", "mediated"}
    assert doc["difference"]["horizons"]["24"]["p"] != 0
    assert len(doc["difference"]["p_talks"]) == len(doc["edited"]["months"])
    # as of a later month: the runs say so
    later = client.post("/api/explore", json={"scenario": TEXT, "draws": 100, "as_of": "2019-01"})
    assert later.json()["edited"]["as_of"] == "2019-01"


@pytest.mark.parametrize(
    ("body", "field", "needle"),
    [
        ({"edits": [{"path": ENF, "op": "shift", "value": 0.5}]}, ENF,
         f"edited scenario: {ENF}: uniform(0.9, 1.3) outside the allowed range [0, 1]"),
        ({"edits": [{"path": "leader.nope", "op": "pin", "value": 1}]}, "leader.nope",
         "edits: edits[0] leader.nope: no such place in the scenario"),
        ({"edits": [{"path": "pressure.oil", "op": "add_phase", "month": "2019-13", "intensity": 1,
                     "enforcement": 1}]}, "pressure.oil", "month: expected YYYY-MM, got '2019-13'"),
        ({"edits": [{"path": "pressure.oil", "op": "add_phase", "month": "2019-01", "intensity": 1,
                     "enforcement": 1.5}]}, "pressure.oil", "enforcement: 1.5 outside [0, 1]"),
        ({"edits": [{"path": ENF, "op": "shift", "value": 0}] * (MAX_EDITS + 1)}, "",
         f"at most {MAX_EDITS}"),
        ({"as_of": "2017-01"}, "", "before the scenario's start"),
    ],
)  # fmt: skip
def test_invalid_edits_are_one_line_422s_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str, needle: str
) -> None:
    res = client.post("/api/explore", json={"scenario": TEXT, "draws": 50, **body})
    assert res.status_code == 422
    doc = res.json()
    assert needle in doc["detail"] and "\n" not in doc["detail"]
    assert doc["field"] == field


def test_limits_of_the_explore_endpoints(client: TestClient) -> None:
    assert client.post("/api/explore", json={"scenario": TEXT, "draws": 20_001}).status_code == 422
    assert client.post("/api/explore", json={"scenario": TEXT, "horizon": 121}).status_code == 422
    big = client.post("/api/explore", json={"scenario": "x" * 1_000_001})
    assert big.status_code == 413 and "too large" in big.json()["detail"]
    bad_op = client.post(
        "/api/explore", json={"scenario": TEXT, "edits": [{"path": ENF, "op": "drop"}]}
    )
    assert bad_op.status_code == 422
    inf = json.dumps({"scenario": TEXT, "edits": [{"path": ENF, "op": "pin", "value": math.inf}]})
    res = client.post("/api/explore", content=inf, headers={"Content-Type": "application/json"})
    assert res.status_code == 422
    assert res.json()["detail"] == f"edits: edits[0] {ENF}: value: expected a finite number"
    broken = client.post(
        "/api/explore", json={"scenario": TEXT.replace("horizon: 36", "horizon: 0")}
    )
    assert broken.status_code == 422 and broken.json()["field"] == "horizon"
    too_many = client.post(
        "/api/explore/discover", json={"scenario": TEXT, "draws": MAX_DISCOVER_DRAWS + 1}
    )
    assert too_many.status_code == 422


def test_params_lists_every_number(client: TestClient) -> None:
    rows = client.post("/api/explore/params", json={"scenario": TEXT}).json()
    by_path = {r["path"]: r for r in rows}
    assert by_path[ENF] == {
        "path": ENF, "kind": "uniform", "text": "uniform(0.4, 0.8)", "uncertain": True,
        "low": 0.0, "high": 1.0, "center": pytest.approx(0.6),
    }  # fmt: skip
    assert by_path["factions[0].capability"]["high"] is None  # no upper bound
    assert client.post("/api/explore/params", json={"scenario": "a: ["}).status_code == 422


def test_the_edited_yaml_keeps_the_comments(client: TestClient) -> None:
    edits = [{"path": ENF, "op": "pin", "value": 0.6}, {"path": "events[0]", "op": "off"}]
    res = client.post("/api/explore/yaml", json={"scenario": TEXT, "edits": edits})
    assert res.status_code == 200 and res.headers["content-type"].startswith("application/yaml")
    text = res.text
    original = [line for line in TEXT.splitlines() if line.lstrip().startswith("#")]
    assert [line for line in text.splitlines() if line.lstrip().startswith("#")] == original
    assert "pinned, was uniform(0.4, 0.8): set in the detente dashboard" in text
    assert "switched off, was 1: set in the detente dashboard" in text
    # only the edited lines change: the rest of the file is as it was, line for line
    before, after = TEXT.splitlines(), text.splitlines()
    added = [line for line in after if line not in before]
    removed = [line for line in before if line not in after]
    assert len(added) == 2 and added[0].lstrip().startswith("enforcement: {value: 0.6, assumption:")
    assert added[1].lstrip().startswith("scale: {value: 0.0, source:")
    assert len(removed) == 2 and removed[0].lstrip().startswith("enforcement: {uniform: [0.4, 0.8]")
    assert removed[1].lstrip().startswith("scale: {value: 1, source:")
    assert scenario_from_text(text).pressure["oil"].timeline[1].enforcement.value == 0.6
    bad = client.post(
        "/api/explore/yaml",
        json={"scenario": TEXT, "edits": [{"path": ENF, "op": "shift", "value": 1}]},
    )
    assert bad.status_code == 422


def test_discover_endpoint(client: TestClient) -> None:
    res = client.post(
        "/api/explore/discover", json={"scenario": TEXT, "draws": 300, "threshold": 0.1}
    )
    assert res.status_code == 200
    doc = res.json()
    assert (
        doc["draws"] == 300 and doc["threshold"] == 0.1 and doc["trajectory"][0]["coverage"] == 1.0
    )
    assert all(0 <= b["density"] <= 1 for b in doc["boxes"])


def test_stored_runs_compare_only_with_their_kind(client: TestClient, tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite")
    one = store.add("run", {"draws": 10}, {"horizons": {"24": {"p": 0.1}}}, {}, "x", "t", 1)
    two = store.add(
        "dashboard run", {"draws": 20}, {"horizons": {"24": {"p": 0.2}}}, {}, "x", "t", 1
    )
    sweep = store.add("sweep", {}, {"points": 4, "of": 4, "complete": True}, {}, "x", "t", 1)
    same = client.get(f"/api/explore/runs-diff?a={one}&b={two}")
    assert same.status_code == 200
    assert same.json()["kind"] == "forecast"
    assert same.json()["summary"]["horizons.24.p"]["change"] == pytest.approx(0.1)
    other = client.get(f"/api/explore/runs-diff?a={one}&b={sweep}")
    assert other.status_code == 422
    assert (
        other.json()["detail"]
        == f"run {one} is a forecast, run {sweep} a sweep: compare runs of the same kind"
    )
    assert client.get(f"/api/explore/runs-diff?a={one}&b=999").status_code == 404


def test_the_api_page_works_offline(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "<script" not in text and "http://" not in text and "https://" not in text
    assert "<code>/api/explore</code>" in text and "<code>/api/run</code>" in text
    assert "ExploreRequest" in text and "<a href='/openapi.json'>" in text
    assert client.get("/redoc").status_code == 404  # it loaded from a CDN: gone
    assert client.get("/openapi.json").status_code == 200
