"""Invariants of every engine, as property tests (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from detente.engines import ActorArrays, Compromise, ExpectedUtility, Median
from detente.engines import eum as E

ENGINES = {
    "compromise": Compromise(),
    "median": Median(),
    "eum": ExpectedUtility(max_rounds=30),
    "eum-scholz": ExpectedUtility(variant="scholz-code", rounds=6),
}


@st.composite
def tables(draw: st.DrawFn, max_actors: int = 8) -> ActorArrays:
    n = draw(st.integers(1, max_actors))
    # integer-valued positions make ties (the hard cases) common
    pos = draw(arrays(np.float64, n, elements=st.integers(0, 20).map(float)))
    cap = draw(arrays(np.float64, n, elements=st.sampled_from([0.0, 0.5, 1.0, 2.0, 7.5])))
    sal = draw(arrays(np.float64, n, elements=st.sampled_from([0.0, 0.1, 0.4, 0.75, 1.0])))
    return ActorArrays.from_1d(cap, pos, sal)


def _solve(name: str, a: ActorArrays) -> tuple[np.ndarray, np.ndarray]:
    res = ENGINES[name].solve(a)
    hist = res.history_positions if res.history_positions is not None else a.position[:, None, :]
    return res.forecast, hist


@settings(max_examples=60, deadline=None)
@given(a=tables(), name=st.sampled_from(sorted(ENGINES)))
def test_positions_stay_within_the_initial_range(a: ActorArrays, name: str) -> None:
    forecast, hist = _solve(name, a)
    lo, hi = a.position.min(), a.position.max()
    assert np.all(hist >= lo) and np.all(hist <= hi)
    assert np.all(np.isfinite(forecast)) and lo <= forecast[0] <= hi


@settings(max_examples=60, deadline=None)
@given(a=tables(), name=st.sampled_from(["compromise", "median", "eum"]), seed=st.integers(0, 99))
def test_actor_order_does_not_change_the_result(a: ActorArrays, name: str, seed: int) -> None:
    perm = np.random.default_rng(seed).permutation(a.n_actors)
    b = ActorArrays.from_1d(a.capability[0, perm], a.position[0, perm], a.salience[0, perm])
    fa, ha = _solve(name, a)
    fb, hb = _solve(name, b)
    np.testing.assert_allclose(fa, fb, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(ha[0, -1, perm], hb[0, -1])


@settings(max_examples=30, deadline=None)
@given(
    pos=st.floats(-1e3, 1e3),
    cap=st.floats(0, 10),
    sal=st.floats(0, 1),
    name=st.sampled_from(sorted(ENGINES)),
)
def test_one_actor_gives_its_own_position(pos: float, cap: float, sal: float, name: str) -> None:
    forecast, _ = _solve(name, ActorArrays.from_1d([cap], [pos], [sal]))
    assert forecast[0] == pos


@settings(max_examples=40, deadline=None)
@given(a=tables(), name=st.sampled_from(sorted(ENGINES)))
def test_identical_inputs_give_identical_outputs(a: ActorArrays, name: str) -> None:
    f1, h1 = _solve(name, a)
    f2, h2 = _solve(name, a)
    np.testing.assert_array_equal(f1, f2)
    np.testing.assert_array_equal(h1, h2)


@settings(max_examples=15, deadline=None)
@given(a=tables(max_actors=6), variant=st.sampled_from(["published", "scholz-code"]))
def test_batching_and_chunking_do_not_change_numbers(a: ActorArrays, variant: str) -> None:
    """A draw gives the same numbers alone, in a batch, and in any chunking of the batch."""
    rng = np.random.default_rng(1)
    n = a.n_actors
    batch = ActorArrays(
        capability=np.vstack([a.capability, rng.uniform(0, 2, (9, n))]),
        position=np.vstack([a.position, rng.integers(0, 20, (9, n)).astype(float)]),
        salience=np.vstack([a.salience, rng.uniform(0, 1, (9, n))]),
    )
    engine = ExpectedUtility(variant=variant, max_rounds=20)  # type: ignore[arg-type]
    alone = engine.solve(a)
    whole = engine.solve(batch)
    saved = E._CHUNK_ELEMENTS
    try:
        E._CHUNK_ELEMENTS = 3 * n**3  # three draws a chunk, so several threads run
        chunked = engine.solve(batch)
    finally:
        E._CHUNK_ELEMENTS = saved
    np.testing.assert_array_equal(whole.forecast, chunked.forecast)
    assert whole.history_positions is not None and chunked.history_positions is not None
    np.testing.assert_array_equal(whole.history_positions, chunked.history_positions)
    assert alone.history_positions is not None
    rounds = alone.history_positions.shape[1]
    np.testing.assert_array_equal(alone.history_positions[0], whole.history_positions[0, :rounds])
    assert alone.forecast[0] == whole.forecast[0]
