"""The dashboard's JSON API, with FastAPI's test client."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from detente.forecast import run_scenario
from detente.scenario.coercion import load_scenario
from detente.web import create_app

from .conftest import ROOT
from .test_cli import IRAN_2018


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copy(IRAN_2018, folder / "iran-2018.yaml")
    (tmp_path / "secret.yaml").write_text("not for the dashboard")
    return TestClient(create_app(folder, tmp_path / "runs.sqlite"), base_url="http://localhost")


def test_health_scenarios_and_schema(client: TestClient) -> None:
    assert client.get("/api/health").json()["status"] == "ok"
    assert client.get("/api/scenarios").json() == ["iran-2018.yaml"]
    doc = client.get("/api/scenarios/iran-2018.yaml").json()
    assert doc["data"]["id"] == "iran-2018" and doc["text"] == IRAN_2018.read_text()
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/health", "/api/run", "/api/runs", "/api/save"} <= set(paths)
    assert "<title>detente dashboard</title>" in client.get("/").text


def test_run_returns_what_detente_run_json_prints(client: TestClient) -> None:
    text = IRAN_2018.read_text()
    got = client.post("/api/run", json={"scenario": text, "draws": 300, "seed": 5}).json()
    expected = run_scenario(load_scenario(IRAN_2018), draws=300, seed=5).to_dict()
    assert got == expected  # JSON floats round-trip exactly
    recorded = client.post("/api/run", json={"scenario": text, "draws": 100, "record": True})
    run_id = recorded.json()["run_id"]
    runs = client.get("/api/runs").json()
    assert runs[0]["id"] == run_id and runs[0]["command"] == "dashboard run"
    assert client.get(f"/api/runs/{run_id}").json()["scenario_text"] == text


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"draws": 10_000_000}, "less than or equal"),
        ({"horizon": 1000}, "less than or equal"),
        ({"scenario": "id: [unclosed"}, "not valid YAML"),
        ({"scenario": "id: x\ntitle: y\n"}, "missing field"),
        ({"colour": "red"}, "Extra inputs"),
        ({"lens": "optimist"}, "author"),
    ],
)
def test_bad_requests_are_422(client: TestClient, body: dict[str, object], needle: str) -> None:
    payload = {"scenario": IRAN_2018.read_text(), **body}
    res = client.post("/api/run", json=payload)
    assert res.status_code == 422 and needle in res.text


def test_request_size_is_capped(client: TestClient) -> None:
    res = client.post("/api/run", content=b"x" * 1_500_000, headers={"content-type": "text/plain"})
    assert res.status_code == 413 and "too large" in res.json()["detail"]


def test_paths_outside_the_folder_are_refused(client: TestClient) -> None:
    for name in ("../secret.yaml", "..%2Fsecret.yaml", "secret", ".hidden.yaml"):
        res = client.get(f"/api/scenarios/{name}")
        assert res.status_code in (404, 422), name
        assert "not for the dashboard" not in res.text
    bad = client.post("/api/save", json={"name": "../escape.yaml", "scenario": "x"})
    assert bad.status_code == 422


def test_save_makes_a_new_file_and_never_overwrites(client: TestClient, tmp_path: Path) -> None:
    data = yaml.safe_load(IRAN_2018.read_text())
    data["leader"]["legacy_weight"] = {"value": 0.2, "assumption": "set in the detente dashboard"}
    body = {"name": "iran-2018-edited.yaml", "scenario": json.dumps(data)}
    assert client.post("/api/save", json=body).status_code == 201
    saved = tmp_path / "scenarios" / "iran-2018-edited.yaml"
    assert load_scenario(saved).leader.legacy_weight.value == 0.2
    before = saved.read_text()
    again = client.post("/api/save", json=body)
    assert again.status_code == 409 and saved.read_text() == before
    original = client.post(
        "/api/save", json={"name": "iran-2018.yaml", "scenario": json.dumps(data)}
    )
    assert original.status_code == 409
    assert (tmp_path / "scenarios" / "iran-2018.yaml").read_text() == IRAN_2018.read_text()
    invalid = client.post("/api/save", json={"name": "broken.yaml", "scenario": "id: x"})
    assert invalid.status_code == 422 and not (tmp_path / "scenarios" / "broken.yaml").exists()


def test_examples_folder_serves(tmp_path: Path) -> None:
    c = TestClient(
        create_app(ROOT / "examples" / "cases", tmp_path / "r.sqlite"), base_url="http://localhost"
    )
    assert "iran-2012.yaml" in c.get("/api/scenarios").json()
