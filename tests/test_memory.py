"""What a run keeps per draw (``Trajectories.empty``): the reported p, lo and hi and every
probability path are those of the full float64 paths, bit for bit; the means of the series kept
in float32 (and of the faction paths) within one float32 rounding."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from detente.dynamics.simulate import MEAN_ONLY_SERIES, PER_DRAW_SERIES, SERIES
from detente.forecast import Chunk, run_scenario, simulate_chunk
from detente.scenario.coercion import load_scenario
from detente.scenario.sample import draw_params

from .conftest import ROOT

FLAGSHIP = ROOT / "examples" / "cases" / "iran-2018.yaml"
#: float32 rounds a value to a relative 2**-24; a weighted mean of such values moves at most that.
F32 = 2.0**-24


def _close(a: Any, b: Any, rel: float) -> None:
    assert np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=rel, atol=0.0)


@pytest.mark.parametrize("as_of", [None, "2018-09"])
def test_compact_storage_changes_no_reported_probability(as_of: str | None) -> None:
    scenario = load_scenario(FLAGSHIP)
    draws, seed = 300, 7
    # chunks of 128 rows: several chunks written into one result
    compact = run_scenario(scenario, draws=draws, seed=seed, chunk_rows=128, as_of=as_of)
    assert compact.paths.capability is None
    assert compact.paths.position.dtype == np.float32
    for name in SERIES:
        want = np.float64 if name in PER_DRAW_SERIES else np.float32
        assert compact.paths.series[name].dtype == want, name
    # the same draws simulated in one piece, every path kept in float64
    params = draw_params(scenario, draws, seed, None, {}, None)
    full = simulate_chunk(Chunk(scenario, params, compact.horizon, compact.origin))
    assert full.position.dtype == np.float64 and full.capability is not None
    reference = dataclasses.replace(compact, paths=full).to_dict()
    got = compact.to_dict()

    assert got["horizons"] == reference["horizons"]  # p, lo, hi, by channel: identical
    assert got["even_odds_month"] == reference["even_odds_month"]
    for name in PER_DRAW_SERIES + ("p_talks_lo", "p_talks_hi"):
        assert got["trajectories"][name] == reference["trajectories"][name], name
    for name in MEAN_ONLY_SERIES:
        assert got["trajectories"][name] != [] and name not in PER_DRAW_SERIES
        _close(got["trajectories"][name], reference["trajectories"][name], 2 * F32)
    for faction, paths in got["factions"].items():
        ref = reference["factions"][faction]
        assert paths["initial_position"] == ref["initial_position"]
        _close(paths["position"], ref["position"], 2 * F32)
        _close(paths["salience"], ref["salience"], 2 * F32)


def test_the_result_does_not_depend_on_the_chunk_size() -> None:
    scenario = load_scenario(FLAGSHIP)
    a = run_scenario(scenario, draws=90, seed=2, chunk_rows=90).to_dict()
    b = run_scenario(scenario, draws=90, seed=2, chunk_rows=7).to_dict()
    assert a == b
