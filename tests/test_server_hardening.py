"""Regression tests for the server failures of issue 13: body caps while streaming, short
errors, YAML aliases, the work budget, the Host check, security headers, the run pool."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import shutil
import threading
import time
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from detente.web import create_app
from detente.web.guards import Guards, host_name
from detente.web.pool import ClientGone, PoolFull, RunFailed, RunPool, RunTimeout
from detente.web.settings import ServerSettings

from .test_cli import IRAN_2018

LOCAL = "http://localhost"
BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    "id: bomb\n"
)


def make_client(tmp_path: Path, **settings: Any) -> TestClient:
    folder = tmp_path / "scenarios"
    folder.mkdir(exist_ok=True)
    shutil.copy(IRAN_2018, folder / "iran-2018.yaml")
    app = create_app(folder, tmp_path / "runs.sqlite", ServerSettings(**settings))
    return TestClient(app, base_url=LOCAL)


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return make_client(tmp_path)


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def scenario_with(factions: int, engine: str) -> str:
    """The flagship scenario with ``factions`` factions (copies of its own) and ``engine``."""
    data = yaml.safe_load(IRAN_2018.read_text())
    base = data["factions"]
    data["factions"] = [
        {**{k: v for k, v in base[k % len(base)].items() if k != "veto"}, "name": f"f{k}"}
        for k in range(factions)
    ]
    data["factions"][0]["veto"] = True
    data["leader"]["faction"] = "f0"
    data["engine"] = engine
    return yaml.dump(data, Dumper=_NoAliases)


# --- the body cap, counted while the body streams in ------------------------------------------


def test_a_chunked_body_over_the_cap_is_413_and_read_no_further() -> None:
    """No Content-Length: the middleware counts chunks and stops at the cap, never reading the
    rest (the issue's 221-906 MB were buffered whole)."""
    pulled = 0
    chunk = b"x" * 65_536

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": pulled < 10_000}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the app must not be reached")

    scope = {"type": "http", "path": "/api/run", "headers": [(b"host", b"localhost")]}
    asyncio.run(Guards(app, ServerSettings())(scope, receive, send))
    assert sent[0]["status"] == 413
    assert pulled == 1_000_000 // 65_536 + 1  # 16 chunks of 10,000: stopped just past the cap
    assert b"at most 1,000,000 bytes" in sent[1]["body"]


def test_a_streamed_body_over_the_cap_is_413_end_to_end(client: TestClient) -> None:
    def body() -> Any:
        for _ in range(40):
            yield b"y" * 50_000

    res = client.post("/api/run", content=body(), headers={"content-type": "application/json"})
    assert res.status_code == 413 and len(res.content) < 200


def test_a_declared_length_over_the_cap_is_refused_before_reading(client: TestClient) -> None:
    res = client.post("/api/save", content=b"{}", headers={"content-length": "999999999"})
    assert res.status_code == 413


# --- errors are one short line, never the input echoed -----------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"scenario": 7, "draws": "x" * 900_000},
        {"scenario": "s", "colour": "r" * 900_000},
        {"scenario": ["z" * 900_000]},
        {"name": "n" * 900_000, "scenario": "x"},
    ],
)
def test_validation_errors_are_short_and_echo_nothing(
    client: TestClient, body: dict[str, Any]
) -> None:
    path = "/api/save" if "name" in body else "/api/run"
    res = client.post(path, json=body)
    assert res.status_code == 422
    detail = res.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and len(res.content) < 400
    assert "xxxxxxxxxx" not in detail and "rrrrrrrrrr" not in detail


def test_a_scenario_error_is_one_line(client: TestClient) -> None:
    res = client.post("/api/run", json={"scenario": "id: x\ntitle: y\n"})
    assert res.status_code == 422 and res.json()["detail"].count("\n") == 0


# --- YAML: aliases, depth, keys, numbers -------------------------------------------------------


def test_aliases_are_refused_in_save_and_run(client: TestClient, tmp_path: Path) -> None:
    res = client.post("/api/save", json={"name": "bomb.yaml", "scenario": BOMB})
    assert res.status_code == 422 and "aliases" in res.json()["detail"]
    assert not (tmp_path / "scenarios" / "bomb.yaml").exists()
    res = client.post("/api/run", json={"scenario": BOMB})
    assert res.status_code == 422 and "line 2" in res.json()["detail"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[" * 500 + "]" * 500, "nested more than 32 levels deep"),
        ("? [a]\n: 1\n", "a key must be a name, not a list"),
        ("id: x\nnoise: " + "9" * 5000 + "\n", "an integer of 5,000 characters; at most 40"),
        ("id: [unclosed", "not valid YAML"),
    ],
)
def test_yaml_that_broke_the_loader_is_one_line(client: TestClient, text: str, needle: str) -> None:
    for path, body in (("/api/run", {"scenario": text}), ("/api/save", {"name": "t.yaml"})):
        res = client.post(path, json={"scenario": text, **body})
        assert res.status_code == 422 and needle in res.json()["detail"], path


def test_a_saved_scenario_still_round_trips(client: TestClient, tmp_path: Path) -> None:
    res = client.post("/api/save", json={"name": "copy.yaml", "scenario": IRAN_2018.read_text()})
    assert res.status_code == 201
    assert client.get("/api/scenarios/copy.yaml").json()["data"]["id"] == "iran-2018"


# --- the work budget and the run limits, before any work ---------------------------------------


def test_a_costly_eum_run_is_refused_before_running(client: TestClient) -> None:
    """The issue's run: the EUM with many factions at 1,000 draws x 120 months (40 s there)."""
    text = scenario_with(20, "eum")
    start = time.monotonic()
    res = client.post("/api/run", json={"scenario": text, "draws": 1000, "horizon": 120})
    assert res.status_code == 422 and time.monotonic() - start < 5
    detail = res.json()["detail"]
    assert detail.startswith("request: too much work: 1,000 draws x 121 months x 20 factions")
    # work = 1,000 x 121 x (13 + 20 + 95 x 20^2) = 4.60e9 units, 20.9 times the 2.2e8 budget
    assert detail.endswith("is 20.9 times the budget here (try about 47 draws)")


def test_too_many_factions_and_too_much_memory_are_422(client: TestClient) -> None:
    res = client.post("/api/run", json={"scenario": scenario_with(31, "compromise")})
    assert res.status_code == 422 and "31 factions; at most 30 here" in res.json()["detail"]
    text = scenario_with(30, "compromise")
    res = client.post("/api/run", json={"scenario": text, "draws": 20_000, "horizon": 120})
    assert res.status_code == 422 and "of memory; the limit is 768 MiB" in res.json()["detail"]


def test_a_seed_too_large_to_record_is_422(client: TestClient) -> None:
    res = client.post("/api/run", json={"scenario": "x", "seed": 2**63})
    assert res.status_code == 422 and "seed" in res.json()["detail"]


# --- Host header and security headers -----------------------------------------------------------


def test_another_host_name_is_400(tmp_path: Path) -> None:
    c = make_client(tmp_path)
    for host in ("evil.example", "evil.example:8000", "localhost.evil.example", ""):
        res = c.get("/api/health", headers={"host": host})
        assert res.status_code == 400 and "Host" in res.json()["detail"], host
    for host in ("localhost:8000", "127.0.0.1", "[::1]:8000", "LOCALHOST."):
        assert c.get("/api/health", headers={"host": host}).status_code == 200, host
    exposed = make_client(tmp_path, bind_host="0.0.0.0", allow_hosts=("dash.lan",))
    assert exposed.get("/api/health", headers={"host": "dash.lan:8000"}).status_code == 200
    assert exposed.get("/api/health", headers={"host": "0.0.0.0"}).status_code == 400


def test_host_name_parsing() -> None:
    assert host_name("[::1]:80") == "::1" and host_name("Example.ORG.:8080") == "example.org"
    assert host_name("::1") == "::1"


def test_security_headers(client: TestClient) -> None:
    for path in ("/", "/api/health", "/api/nothing-here"):
        res = client.get(path)
        assert res.headers["x-content-type-options"] == "nosniff", path
        assert res.headers["x-frame-options"] == "DENY"
        assert res.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in res.headers["content-security-policy"]
    csp = client.get("/").headers["content-security-policy"]
    page = resources.files("detente.web").joinpath("index.html").read_text(encoding="utf-8")
    (script,) = re.findall(r"<script>(.*?)</script>", page, re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}';" in csp and "connect-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


# --- the pool: 503 when full, health meanwhile, time limit, cancellation ------------------------


def test_a_full_pool_is_503_with_retry_after_and_health_still_answers(tmp_path: Path) -> None:
    c = make_client(tmp_path, run_slots=1, run_queue=0)
    pool = c.app.state.runs.pool  # type: ignore[attr-defined]
    slow = {"scenario": IRAN_2018.read_text(), "draws": 10_000, "horizon": 24}
    first: dict[str, int] = {}
    worker = threading.Thread(
        target=lambda: first.update(code=c.post("/api/run", json=slow).status_code)
    )
    worker.start()
    deadline = time.monotonic() + 10
    while pool.admitted == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pool.admitted == 1
    res = c.post("/api/run", json={"scenario": IRAN_2018.read_text(), "draws": 10})
    assert res.status_code == 503 and res.headers["retry-after"] == "5"
    start = time.monotonic()
    assert c.get("/api/health").status_code == 200
    assert time.monotonic() - start < 1.0
    worker.join(60)
    assert first == {"code": 200}


def _run(pool: RunPool, fn: Any, args: tuple[Any, ...], gone_after: float = 1e9) -> Any:
    start = time.monotonic()

    async def disconnected() -> bool:
        return time.monotonic() - start > gone_after

    return asyncio.run(pool.run(fn, args, disconnected))


def test_the_pool_kills_a_run_past_its_time_limit() -> None:
    pool = RunPool(slots=1, queue=0, timeout=0.5)
    start = time.monotonic()
    with pytest.raises(RunTimeout):
        _run(pool, time.sleep, (30,))
    assert time.monotonic() - start < 5 and not pool._children


def test_the_pool_stops_a_run_when_the_client_goes() -> None:
    pool = RunPool(slots=1, queue=0, timeout=60)
    start = time.monotonic()
    with pytest.raises(ClientGone):
        _run(pool, time.sleep, (30,), gone_after=0.3)
    assert time.monotonic() - start < 5 and not pool._children


def test_a_run_process_that_dies_is_a_failure_not_a_hang() -> None:
    with pytest.raises(RunFailed, match="exit code 3"):
        _run(RunPool(slots=1, queue=0, timeout=30), os._exit, (3,))


def test_admission_is_bounded() -> None:
    pool = RunPool(slots=1, queue=1, timeout=1)

    async def fill() -> None:
        async with pool.admit(), pool.admit():
            with pytest.raises(PoolFull):
                async with pool.admit():
                    pass
        assert pool.admitted == 0

    asyncio.run(fill())


# --- the folder and the store: what a request can name ------------------------------------------


def test_files_of_the_folder_that_cannot_be_read_are_one_line(
    client: TestClient, tmp_path: Path
) -> None:
    folder = tmp_path / "scenarios"
    (folder / "latin1.yaml").write_bytes("id: caf\xe9\n".encode("latin-1"))
    (folder / "big.yaml").write_text("# " + "x" * 1_000_001 + "\n")
    (folder / "bomb.yaml").write_text(BOMB)
    expected = {
        "latin1.yaml": "latin1.yaml: not a UTF-8 text file",
        "big.yaml": "big.yaml: 1,000,004 bytes; at most 1,000,000 here",
        "bomb.yaml": "bomb.yaml: line 2: YAML aliases (*name) are not accepted here",
    }
    for name, detail in expected.items():
        res = client.get(f"/api/scenarios/{name}")
        assert res.status_code == 422 and res.json()["detail"] == detail, name


def test_a_run_id_beyond_sqlite_is_404(client: TestClient) -> None:
    for run_id in ("99999999999999999999999", str(2**63), "-1"):
        res = client.get(f"/api/runs/{run_id}")
        assert res.status_code == 404 and res.json()["detail"] == f"no run {run_id}"


def test_a_scenario_horizon_over_the_server_cap_is_422(client: TestClient) -> None:
    text = IRAN_2018.read_text().replace("horizon: 36", "horizon: 200")
    res = client.post("/api/run", json={"scenario": text, "draws": 10})
    assert res.status_code == 422
    assert res.json()["detail"] == "scenario: horizon: 200 months; at most 120 here"
    res = client.post("/api/run", json={"scenario": text, "draws": 10, "horizon": 12})
    assert res.status_code == 200 and res.json()["horizon"] == 12


def test_the_explore_endpoints_run_in_the_pool_within_the_limits(client: TestClient) -> None:
    text = scenario_with(20, "eum")
    for path, body in (
        ("/api/explore", {"draws": 1000, "horizon": 120}),
        ("/api/explore/discover", {"draws": 1000, "horizon": 120}),
    ):
        res = client.post(path, json={"scenario": text, **body})
        assert res.status_code == 422, path
        assert "too much work" in res.json()["detail"] and res.json()["field"] == ""
    res = client.post("/api/explore", json={"scenario": BOMB})
    assert res.status_code == 422 and "aliases" in res.json()["detail"]
    ok = client.post("/api/explore", json={"scenario": IRAN_2018.read_text(), "draws": 50})
    assert ok.status_code == 200 and set(ok.json()) == {"baseline", "edited", "difference"}


def test_a_run_recorded_from_the_page_keeps_its_as_of_month(client: TestClient) -> None:
    text = IRAN_2018.read_text(encoding="utf-8")
    body = {"scenario": text, "draws": 200, "as_of": "2019-06", "record": True}
    res = client.post("/api/run", json=body)
    assert res.status_code == 200, res.text
    doc = res.json()
    assert doc["as_of"] == "2019-06"
    stored = client.get(f"/api/runs/{doc['run_id']}").json()
    assert stored["args"]["as_of"] == "2019-06"
    bad = client.post("/api/run", json={**body, "as_of": "June 2019"})
    assert bad.status_code == 422 and "\n" not in bad.json()["detail"]


def test_a_store_the_server_cannot_use_is_a_503_with_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    store = tmp_path / "runs.sqlite"
    store.write_bytes(b"not a database at all" * 100)
    c = TestClient(create_app(folder, store), base_url=LOCAL)
    res = c.get("/api/runs")
    assert res.status_code == 503
    detail = res.json()["detail"]
    assert detail.startswith("run store: ") and "\n" not in detail
