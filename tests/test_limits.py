"""The run limits (``detente.limits``): the memory estimate, the caps, the one-line refusals."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from detente.backends import LocalBackend
from detente.dynamics.simulate import SERIES, Trajectories
from detente.errors import InputError
from detente.forecast import run_scenario
from detente.limits import (
    MEMORY_ENV,
    SERIES_PER_MONTH,
    SERVER_LIMITS,
    check_actors,
    check_run,
    estimate_run_bytes,
    library_limits,
    result_bytes,
    run_work,
)
from detente.scenario import load_actor_file
from detente.scenario.coercion import load_scenario
from detente.solve import solve_issues

from .test_cli import IRAN_2018


def test_the_result_estimate_is_the_preallocated_result() -> None:
    assert len(SERIES) == SERIES_PER_MONTH
    paths = Trajectories.empty(300, 37, 7)
    held = sum(a.nbytes for a in paths.series.values())
    held += paths.position.nbytes + paths.salience.nbytes
    # 5 probabilities in float64, 13 mean-only series and 2 x 7 faction arrays in float32
    assert result_bytes(300, 37, 7) == held == 300 * 37 * (5 * 8 + 13 * 4 + 14 * 4)


def test_the_documented_maximum_draws_over_ten_years_is_refused_before_any_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--draws 1000000`` needed about 20 GB (issue 13); over 120 months it still would: now
    one line, before drawing."""
    monkeypatch.delenv(MEMORY_ENV, raising=False)
    scn = load_scenario(IRAN_2018)
    # 100 MiB + the result 1e6 x 121 x 148 + the draws 1e6 x 128 x 8
    # + two chunks in flight 2 x 2,000 x 121 x 39 x 20
    parts = 100 * 2**20 + 17_908_000_000 + 1_024_000_000 + 377_520_000
    assert estimate_run_bytes(1_000_000, 121, 7, 2000, 2) == parts == 19_414_377_600
    with pytest.raises(InputError) as info:
        run_scenario(scn, draws=1_000_000, horizon=120, backend=LocalBackend(2), chunk_rows=2000)
    assert str(info.value) == (
        "run: 1,000,000 draws x 121 months x 7 factions needs about 18.1 GiB of memory; the "
        "limit is 8.0 GiB (fewer draws or months; docs/limits.md says how to go beyond)"
    )


def test_the_memory_cap_is_raised_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MEMORY_ENV, "20")
    check_run(1_000_000, 121, 7, "compromise", workers=2)
    assert library_limits().max_bytes == 20 * 2**30
    monkeypatch.setenv(MEMORY_ENV, "lots")
    with pytest.raises(InputError, match="DETENTE_MAX_RUN_GIB: expected a number of GiB"):
        library_limits()


def test_on_a_cluster_only_the_result_is_held_here() -> None:
    draws = 1000 * (100 + 4 * 7) * 8
    assert (
        estimate_run_bytes(1000, 37, 7, workers=0)
        == 100 * 2**20 + result_bytes(1000, 37, 7) + draws
    )


def test_caps_on_factions_draws_months() -> None:
    with pytest.raises(InputError, match=r"^run: factions: 201 factions; at most 200 here$"):
        check_run(10, 10, 201, "compromise")
    with pytest.raises(InputError, match=r"^request: draws: 20,001 draws; at most 20,000 here$"):
        check_run(20_001, 10, 7, "compromise", SERVER_LIMITS)
    with pytest.raises(InputError, match=r"^request: horizon: 122 months; at most 121 here$"):
        check_run(10, 122, 7, "compromise", SERVER_LIMITS)


def test_the_work_budget_weighs_the_engine() -> None:
    assert run_work(10, 10, 7, "compromise") == 10 * 10 * 20
    assert run_work(10, 10, 7, "eum") == 10 * 10 * (20 + 95 * 49)
    # the server's caps in full pass with the compromise; the EUM at the same size does not
    check_run(20_000, 121, 7, "compromise", SERVER_LIMITS, 1, 1000)
    with pytest.raises(InputError, match="too much work"):
        check_run(20_000, 121, 7, "eum", SERVER_LIMITS, 1, 1000)


def test_an_actor_table_over_the_cap_is_refused(tmp_path: Path) -> None:
    rows = "".join(f"a{k},1,{k % 100},50\n" for k in range(2001))
    path = tmp_path / "many.csv"
    path.write_text("actor,capability,position,salience\n" + rows)
    issues = load_actor_file(path).issues
    with pytest.raises(InputError, match=r"2,001 actors; at most 2,000 here$"):
        solve_issues(issues)
    check_actors(2000)


def test_sensitivity_and_sweeps_are_capped_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """They run the model outside run_scenario: the same caps apply before any work."""
    from detente.analysis.sensitivity import scenario_sensitivity
    from detente.analysis.sweep import Axis, run_sweep

    scn = load_scenario(IRAN_2018)
    tight = dataclasses.replace(library_limits(), max_months=12)
    monkeypatch.setattr("detente.limits.library_limits", lambda: tight)
    with pytest.raises(InputError, match=r"horizon: 37 months; at most 12 here$"):
        scenario_sensitivity(scn, samples=8)
    axis = Axis("pressure_scale", np.array([0.0, 1.0]))
    with pytest.raises(InputError, match=r"horizon: 37 months; at most 12 here$"):
        run_sweep(scn, [axis], draws=10)


def test_a_probability_that_is_not_finite_is_refused_not_printed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The backstop behind the readers' bounds: an overflow anywhere is one line, never nan."""
    from detente import forecast as F

    scn = load_scenario(IRAN_2018)
    real = F.simulate_chunk

    def overflowing(chunk: object) -> object:
        part = real(chunk)  # type: ignore[arg-type]
        part.series["p_talks"][0, -1] = np.nan
        return part

    monkeypatch.setattr(F, "simulate_chunk", overflowing)
    with pytest.raises(InputError, match=r"overflowed in 1 draws \(p_talks not finite\)"):
        run_scenario(scn, 50, 1, backend=LocalBackend(1))
