"""Sensitivity, sweeps and backends: known Sobol indices, identical numbers on every backend and
chunking (against a Dask LocalCluster started here), partial results on Ctrl-C."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from detente.analysis.sensitivity import scenario_sensitivity, sobol_indices
from detente.analysis.sweep import Axis, run_sweep
from detente.backends import DaskBackend, LocalBackend
from detente.forecast import run_scenario
from detente.scenario.coercion import load_scenario

from .conftest import DATA, ROOT
from .test_cli import IRAN_2018, detente


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_indices_of_the_ishigami_function() -> None:
    """Analytic values for a = 7, b = 0.1 (Ishigami & Homma 1990; Saltelli et al. 2008):
    S1 = 0.3139, 0.4424, 0; ST = 0.5576, 0.4424, 0.2437."""
    idx, rows = sobol_indices(["x1", "x2", "x3"], ishigami, 4096, 1, [(-math.pi, math.pi)] * 3)
    got = {i.name: i for i in idx}
    assert rows == 4096 * 5
    for name, s1, st in (("x1", 0.3139, 0.5576), ("x2", 0.4424, 0.4424), ("x3", 0.0, 0.2437)):
        assert got[name].S1 == pytest.approx(s1, abs=0.03)
        assert got[name].ST == pytest.approx(st, abs=0.03)
    assert [i.name for i in idx] == ["x1", "x2", "x3"]  # ranked by ST


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as c:
        yield c.scheduler_address


@pytest.fixture(scope="module")
def dask_backend(cluster: str) -> Iterator[DaskBackend]:
    backend = DaskBackend(cluster)
    yield backend
    backend.close()


def test_run_is_identical_across_backends_and_chunkings(dask_backend: DaskBackend) -> None:
    scn = load_scenario(IRAN_2018)
    whole = run_scenario(scn, draws=1200, seed=4, chunk_rows=10_000)
    for backend, rows in (
        (LocalBackend(), 137),
        (LocalBackend(workers=1), 500),
        (dask_backend, 300),
    ):
        other = run_scenario(scn, draws=1200, seed=4, chunk_rows=rows, backend=backend)
        for name, series in whole.paths.series.items():
            np.testing.assert_array_equal(series, other.paths.series[name], err_msg=name)
        np.testing.assert_array_equal(whole.paths.position, other.paths.position)


def test_sensitivity_and_sweep_identical_on_dask(dask_backend: DaskBackend) -> None:
    scn = load_scenario(IRAN_2018)
    local = scenario_sensitivity(scn, samples=16, horizon=12, chunk_rows=400)
    remote = scenario_sensitivity(scn, samples=16, horizon=12, backend=dask_backend)
    assert local.to_dict() == remote.to_dict()
    axes = [Axis.parse("leader.legacy_weight=0:1:5"), Axis.parse("sender_image.trust=0:1:3")]
    a = run_sweep(scn, axes, draws=50, horizon=24, chunk_rows=100)
    b = run_sweep(scn, axes, draws=50, horizon=24, backend=dask_backend)
    pd.testing.assert_frame_equal(a.table, b.table)


def test_sweep_grid_is_tidy_and_uses_common_draws() -> None:
    scn = load_scenario(IRAN_2018)
    res = run_sweep(scn, [Axis.parse("leader.legitimacy_of_talks=-1:1:5")], draws=100, horizon=24)
    t = res.table
    assert res.complete and list(t.columns) == [
        "leader.legitimacy_of_talks", "p", "lo", "hi", "horizon", "draws", "seed",
    ]  # fmt: skip
    assert t["leader.legitimacy_of_talks"].tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert t["p"].is_monotonic_increasing  # M4: more legitimacy from talks, more talks
    # a grid point equals a plain run with that value set (the same draws)
    single = run_scenario(scn, draws=100, horizon=24, fixed={"leader.legitimacy_of_talks": 0.5})
    assert t["p"].iloc[3] == pytest.approx(single.by_horizon()[24]["p"], abs=1e-12)


class _StopAfter:
    """A backend that is interrupted (Ctrl-C) after delivering ``n`` results."""

    name = "test"

    def __init__(self, n: int) -> None:
        self.n = n

    def map(
        self,
        fn: Callable[[Any], Any],
        items: Sequence[Any],
        progress: Any = None,
        on_result: Callable[[int, Any], None] | None = None,
    ) -> list[Any]:
        for k, item in enumerate(items):
            if k == self.n:
                raise KeyboardInterrupt
            if on_result:
                on_result(k, fn(item))
        return []

    def close(self) -> None:
        return None


def test_interrupted_sweep_keeps_what_finished() -> None:
    scn = load_scenario(IRAN_2018)
    res = run_sweep(
        scn,
        [Axis.parse("leader.legacy_weight=0:1:10")],
        draws=100,
        horizon=12,
        backend=_StopAfter(2),
        chunk_rows=300,
    )
    assert not res.complete and res.total_points == 10
    assert len(res.table) == 6  # two chunks of three points
    assert res.table["leader.legacy_weight"].tolist() == pytest.approx(np.linspace(0, 1, 10)[:6])


def test_ctrl_c_on_the_cli_writes_the_finished_points(tmp_path: Path) -> None:
    out = tmp_path / "partial.csv"
    proc = subprocess.Popen(
        [sys.executable, "-m", "detente", "sweep", str(IRAN_2018), "--grid",
         "leader.legacy_weight=0:1:400", "--grid", "sender_image.trust=0:1:50",
         "--draws", "500", "-o", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # as a shell gives its foreground job: whatever this test process does with SIGINT
        # (a library may ignore it), the command starts with the default disposition
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    time.sleep(6)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    table = pd.read_csv(out)
    assert 0 < len(table) < 20_000


def test_sensitivity_cli_json_and_tornado(tmp_path: Path) -> None:
    png = tmp_path / "tornado.png"
    r = detente("sensitivity", IRAN_2018, "--samples", "32", "--horizon", "24", "--json",
                "--plot", png)  # fmt: skip
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["horizon"] == 24 and doc["samples"] == 32
    names = [p["name"] for p in doc["parameters"]]
    assert "leader.legitimacy_of_talks" in names and len(names) == len(set(names))
    sts = [p["ST"] for p in doc["parameters"]]
    assert sts == sorted(sts, reverse=True)
    assert {"S1", "ST", "S1_conf", "ST_conf"} <= set(doc["parameters"][0])
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert detente("sensitivity", IRAN_2018, "--samples", "100").returncode == 2
    none = detente("sensitivity", DATA / "neutral.yaml", "--samples", "8")
    assert none.returncode == 2 and "no uncertain parameter" in none.stderr


def test_sweep_cli_parquet_heatmap_and_errors(tmp_path: Path) -> None:
    out, png = tmp_path / "grid.parquet", tmp_path / "heat.png"
    grid = ["--grid", "leader.legacy_weight=0:1:3", "--grid", "coefficients.w_legitimacy=1:5:3"]
    r = detente("sweep", IRAN_2018, *grid, "--draws", "50", "-o", out, "--plot", png)
    assert r.returncode == 0, r.stderr
    t = pd.read_parquet(out)
    assert len(t) == 9 and {"leader.legacy_weight", "coefficients.w_legitimacy", "p"} <= set(t)
    assert png.read_bytes()[:4] == b"\x89PNG"
    again = detente("sweep", IRAN_2018, "--grid", "leader.legacy_weight=0:1:3", "-o", out)
    assert again.returncode == 2 and "already exists" in again.stderr
    bad = detente("sweep", IRAN_2018, "--grid", "leader.legacy_weight=0:2:3")
    assert bad.returncode == 2 and "outside the allowed" in bad.stderr
    worse = detente("sweep", IRAN_2018, "--grid", "legacy=0:1")
    assert worse.returncode == 2 and "PATH=a:b:n" in worse.stderr


def test_cli_on_a_dask_scheduler(cluster: str) -> None:
    local = detente("run", IRAN_2018, "--draws", "400", "--json")
    remote = detente("run", IRAN_2018, "--draws", "400", "--json", "--backend", "dask",
                     "--scheduler", cluster)  # fmt: skip
    assert remote.returncode == 0, remote.stderr
    assert json.loads(local.stdout) == json.loads(remote.stdout)
    bad = detente("run", IRAN_2018, "--scheduler", cluster)
    assert bad.returncode == 2 and "--backend dask" in bad.stderr


def test_environment_has_no_stray_dask_config() -> None:
    assert "DASK_SCHEDULER_ADDRESS" not in os.environ


def test_a_backend_can_hand_results_over_without_keeping_them() -> None:
    from detente.backends import LocalBackend

    got: dict[int, int] = {}
    ticks: list[int] = []
    for workers in (1, 2):
        got.clear()
        out = LocalBackend(workers).map(
            lambda x: x * x, [1, 2, 3, 4], ticks.append, got.__setitem__, keep=False
        )
        assert out == [] and got == {0: 1, 1: 4, 2: 9, 3: 16}
    assert len(ticks) == 8


def test_ctrl_c_while_chunks_are_being_submitted_cancels_the_rest() -> None:
    """A Ctrl-C that lands while the local backend is still submitting chunks must cancel those
    submitted and not yet started, not leave the workers to run them all before the exit."""
    import threading

    from detente.backends import LocalBackend

    calls: list[int] = []
    lock = threading.Lock()

    def slow(x: int) -> int:
        time.sleep(0.3)
        with lock:
            calls.append(x)
        return x

    class Interrupted(list[int]):
        def __iter__(self):  # type: ignore[no-untyped-def]
            yield from (0, 1, 2)  # two start on the two workers, the third waits
            raise KeyboardInterrupt

        def __len__(self) -> int:
            return 10

    with pytest.raises(KeyboardInterrupt):
        LocalBackend(2).map(slow, Interrupted())
    time.sleep(1.0)
    # at most the two already running finish; without the cancel, all three would run
    assert len(calls) < 3
