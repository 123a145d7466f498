"""The run store: round trip, diff, and a writer killed midway."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from detente.store import RunStore, diff

from .test_cli import IRAN_2018, detente


def test_round_trip_and_diff(tmp_path: Path) -> None:
    st = RunStore(tmp_path / "runs.sqlite")
    a = st.add(
        "run", {"draws": 10}, {"horizons": {"24": {"p": 0.1}}}, {"x": [1, 2]}, "s", "text", 1
    )
    b = st.add("run", {"draws": 20}, {"horizons": {"24": {"p": 0.3}}}, {"x": [1]}, "s", "text2", 2)
    ra, rb = st.get(a), st.get(b)
    assert ra is not None and rb is not None
    assert ra.result == {"x": [1, 2]} and ra.scenario_text == "text" and ra.seed == 1
    assert ra.scenario_hash != rb.scenario_hash and len(ra.scenario_hash or "") == 64
    assert [r.id for r in st.list()] == [b, a]
    d = diff(ra, rb)
    assert d["inputs"]["args.draws"] == [10, 20] and d["inputs"]["seed"] == [1, 2]
    assert abs(d["summary"]["horizons.24.p"]["change"] - 0.2) < 1e-12
    assert st.get(999) is None and st.check() == "ok"


def test_cli_records_and_reads_runs(tmp_path: Path) -> None:
    store = tmp_path / "cli.sqlite"
    r1 = detente("run", IRAN_2018, "--draws", "200", "--store", store, "--json")
    r2 = detente("run", IRAN_2018, "--draws", "200", "--seed", "9", "--store", store, "--json")
    assert "recorded as run 1" in r1.stderr and "recorded as run 2" in r2.stderr
    listed = json.loads(detente("runs", "list", "--store", store, "--json").stdout)
    assert [r["id"] for r in listed] == [2, 1] and listed[0]["scenario"] == "iran-2018"
    shown = json.loads(detente("runs", "show", "1", "--store", store, "--json").stdout)
    assert shown["result"]["horizons"] == json.loads(r1.stdout)["horizons"]
    assert shown["scenario_text"] == IRAN_2018.read_text()
    d = json.loads(detente("runs", "diff", "1", "2", "--store", store, "--json").stdout)
    assert d["inputs"]["seed"] == [20180508, 9]
    assert detente("runs", "show", "7", "--store", store).returncode == 2
    none = detente("run", IRAN_2018, "--draws", "50", "--store", store, "--no-store")
    assert "recorded" not in none.stderr
    assert len(RunStore(store).list()) == 2


WRITER = """
import sys, itertools
from detente.store import RunStore
st = RunStore(sys.argv[1])
big = {"rows": list(range(20000))}
for k in itertools.count():
    st.add("run", {"k": k}, {"k": k}, big, "s", "x" * 5000, k)
    print(k, flush=True)
"""


def test_a_killed_writer_leaves_the_store_consistent(tmp_path: Path) -> None:
    path = tmp_path / "killed.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    done = [int(proc.stdout.readline()) for _ in range(15)]  # 15 records committed
    time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    st = RunStore(path)
    assert st.check() == "ok"
    records = st.list(limit=100_000)
    ks = sorted(r.args["k"] for r in records)
    assert ks[: len(done)] == done  # nothing already stored was lost
    assert ks == list(range(len(ks)))  # and no half-written record
    assert all(r.result["rows"][-1] == 19999 for r in records)
