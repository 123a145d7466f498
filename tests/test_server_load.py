"""A bounded load test of the real server (``detente serve`` in a subprocess, loopback only):
50 requests at once, runs at the draws cap mixed with health checks; health answers within a
second (p95), nothing is a 5xx, a full pool says 503 with Retry-After, memory is given back,
a chunked upload over the cap is cut short, and a client that leaves stops its run.

``pytest tests/test_server_load.py -s`` prints the figures.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from .test_cli import IRAN_2018

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/self/task"), reason="reads processes from /proc (Linux)"
)
RUNS = 20
HEALTHS = 30
RUN_BODY = {"scenario": IRAN_2018.read_text(), "draws": 20_000, "horizon": 12}


def start_server(tmp: Path, *extra: str) -> Server:
    """``detente serve`` on a free loopback port, once it answers."""
    (tmp / "scenarios").mkdir(exist_ok=True)
    shutil.copy(IRAN_2018, tmp / "scenarios" / "iran-2018.yaml")
    port = free_port()
    cmd = [sys.executable, "-m", "detente", "serve", "--port", str(port), *extra]
    cmd += ["--scenarios", str(tmp / "scenarios"), "--store", str(tmp / "runs.sqlite")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    srv = Server(proc, port)
    deadline = time.monotonic() + 30
    while True:
        try:
            if srv.request("GET", "/api/health", timeout=1)[0] == 200:
                return srv
        except OSError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise AssertionError("the server did not start")
        time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, proc: subprocess.Popen[bytes], port: int) -> None:
        self.proc = proc
        self.port = port

    def request(self, method: str, path: str, body: Any = None, timeout: float = 60) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=data,
            method=method,
            headers={"content-type": "application/json"},
        )
        start = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=timeout) as res:
                status, headers = res.status, dict(res.headers)
                res.read()
        except urllib.error.HTTPError as exc:
            status, headers = exc.code, dict(exc.headers)
            headers["body"] = exc.read()[:300].decode(errors="replace")
        return status, time.monotonic() - start, headers

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")

    def run_children(self) -> list[int]:
        """Run processes: the children of the server's children (the forkserver)."""
        out: list[int] = []
        for child in _children(self.proc.pid):
            out += _children(child)
        return out


def _running(pid: int) -> bool:
    """Whether ``pid`` is alive (a zombie, dead and waiting to be reaped, is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("load"))
    try:
        yield srv
    finally:
        srv.proc.terminate()
        try:
            srv.proc.wait(20)
        except subprocess.TimeoutExpired:
            srv.proc.kill()


def test_health_stays_fast_and_nothing_is_5xx_under_load(server: Server) -> None:
    assert server.request("POST", "/api/run", {**RUN_BODY, "draws": 200})[0] == 200  # warm
    before = server.rss_mib()
    jobs: list[tuple[str, str, Any]] = [("POST", "/api/run", RUN_BODY)] * RUNS
    jobs += [("GET", "/api/health", None)] * HEALTHS
    jobs = jobs[::2] + jobs[1::2]  # runs and health checks interleaved
    start = time.monotonic()
    polls = []
    with ThreadPoolExecutor(len(jobs)) as ex:
        futures = [ex.submit(lambda j: (j[1], *server.request(*j)), j) for j in jobs]
        # health checks keep coming while the admitted runs work
        while not all(f.done() for f in futures) and time.monotonic() - start < 90:
            polls.append(server.request("GET", "/api/health", timeout=10))
            time.sleep(0.1)
        results = [f.result() for f in futures]
    wall = time.monotonic() - start
    health = sorted([t for p, _, t, _ in results if p == "/api/health"] + [t for _, t, _ in polls])
    p95 = health[int(0.95 * (len(health) - 1))]
    runs = [(s, h) for p, s, _, h in results if p == "/api/run"]
    ok = sum(s == 200 for s, _ in runs)
    busy = [h for s, h in runs if s == 503]
    statuses = sorted({s for _, s, _, _ in results} | {s for s, _, _ in polls})
    time.sleep(0.5)
    after = server.rss_mib()
    print(
        f"\nload: {len(jobs)} requests at once ({RUNS} runs of 20,000 draws x 12 months, "
        f"{HEALTHS} health checks) + {len(polls)} health polls in {wall:.1f} s; runs 200: "
        f"{ok}, 503: {len(busy)}; health p50 {health[len(health) // 2] * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, max {health[-1] * 1000:.0f} ms; statuses {statuses}; "
        f"server RSS {before:.0f} MiB before, {after:.0f} MiB after"
    )
    errors = [h.get("body") for p, s, _, h in results if s >= 500 and s != 503]
    assert all(s < 500 for s in statuses if s != 503) and set(statuses) <= {200, 503}, errors
    assert ok >= 1 and all(h.get("retry-after") == "5" for h in busy)
    assert p95 < 1.0
    assert after < before + 100  # the runs' arrays lived and died in their processes
    assert not server.run_children()


def test_a_chunked_upload_over_the_cap_is_cut_short(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(
            b"POST /api/run HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"%x\r\n" % 65_536 + b"z" * 65_536 + b"\r\n"
        sent = 0
        try:
            for _ in range(1600):  # 100 MiB if the server kept reading
                s.sendall(chunk)
                sent += 1
        except OSError:
            pass  # the server answered and closed: what should happen
        reply = s.recv(4096)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:100]
    assert sent < 1600
    assert server.request("GET", "/api/health")[0] == 200


def start_long_run(srv: Server, s: socket.socket) -> list[int]:
    """Send a run of about 13 s on ``s`` (without reading the answer); its process ids."""
    body = json.dumps({**RUN_BODY, "horizon": 120}).encode()
    s.sendall(
        b"POST /api/run HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
    )
    deadline = time.monotonic() + 10
    while not srv.run_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    runs = srv.run_children()
    assert runs, "the run did not start"
    return runs


def test_a_client_that_leaves_stops_its_run(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        start_long_run(server, s)
    left = time.monotonic()
    while server.run_children() and time.monotonic() - left < 10:
        time.sleep(0.05)
    stopped = time.monotonic() - left
    print(f"\nrun stopped {stopped:.2f} s after its client left (the run takes ~13 s)")
    assert not server.run_children() and stopped < 3


def test_sigterm_ends_a_runaway_run_after_the_grace_period(tmp_path: Path) -> None:
    srv = start_server(tmp_path, "--shutdown-grace", "1")
    try:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
            runs = start_long_run(srv, s)
            asked = time.monotonic()
            srv.proc.terminate()
            srv.proc.wait(15)
            took = time.monotonic() - asked
        print(f"\nSIGTERM with a ~13 s run in flight: exited after {took:.1f} s (grace 1 s)")
        assert took < 5
        gone = time.monotonic() + 3  # killed; reaped once reparented
        while any(_running(pid) for pid in runs) and time.monotonic() < gone:
            time.sleep(0.05)
        assert not any(_running(pid) for pid in runs)
    finally:
        if srv.proc.poll() is None:
            srv.proc.kill()
