"""Compromise and median engines, and the shared helpers, against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from detente.engines import ENGINE_NAMES, ActorArrays, Compromise, Median, make_engine
from detente.engines.base import clip_to_veto, weighted_mean, weighted_median


def test_compromise_is_capability_times_salience_weighted_mean() -> None:
    # weights c*s = [1, 0.5, 1]: (0*1 + 50*0.5 + 100*1) / 2.5 = 50
    a = ActorArrays.from_1d([1, 1, 2], [0, 50, 100], [1, 0.5, 0.5])
    assert Compromise().solve(a).forecast[0] == pytest.approx(50.0)
    # weights [3, 1]: (0*3 + 100*1) / 4 = 25
    b = ActorArrays.from_1d([3, 1], [0, 100], [1, 1])
    assert Compromise().solve(b).forecast[0] == pytest.approx(25.0)


def test_weighted_median_hand_values() -> None:
    # cumulative weights [1, 1.5, 2.5], half 1.25 -> 50
    a = ActorArrays.from_1d([1, 1, 2], [0, 50, 100], [1, 0.5, 0.5])
    assert Median().solve(a).forecast[0] == 50.0
    # the worked example's pairwise (Condorcet) median is 7.0
    x = np.array([[4, 7, 4, 4, 10, 10, 10, 7, 4, 7.0]])
    w = np.array([[0.064, 0.032, 0.006, 0.128, 0.096, 0.096, 0.144, 0.005, 0.05, 0.056]])
    assert weighted_median(x, w)[0] == 7.0


def test_weighted_median_exact_half_takes_midpoint() -> None:
    assert weighted_median(np.array([[0.0, 10.0]]), np.array([[1.0, 1.0]]))[0] == 5.0
    # 0.1 + 0.2 is not exactly 0.3 in floating point; the tie must still be seen
    x, w = np.array([[0.0, 1.0, 2.0]]), np.array([[0.1, 0.2, 0.3]])
    assert weighted_median(x, w)[0] == 1.5


def test_all_zero_weights_fall_back_to_equal_weights() -> None:
    x, w = np.array([[0.0, 30.0, 90.0]]), np.zeros((1, 3))
    assert weighted_mean(x, w)[0] == pytest.approx(40.0)
    assert weighted_median(x, w)[0] == 30.0


def test_veto_player_bounds_the_outcome() -> None:
    a = ActorArrays.from_1d([1, 1], [0, 100], [1, 1], veto=[True, False])
    assert Compromise().solve(a).forecast[0] == 0.0
    two = ActorArrays.from_1d([1, 1, 1], [20, 60, 100], [1, 1, 1], veto=[True, True, False])
    assert Compromise().solve(two).forecast[0] == 60.0  # mean 60 lies between the vetoes
    assert clip_to_veto(np.array([90.0]), two.position, two.veto)[0] == 60.0


def test_batch_rows_are_independent() -> None:
    a = ActorArrays(
        capability=np.array([[1.0, 1.0], [1.0, 3.0]]),
        position=np.array([[0.0, 10.0], [0.0, 10.0]]),
        salience=np.ones((2, 2)),
    )
    assert Compromise().solve(a).forecast.tolist() == [5.0, 7.5]


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown model"):
        make_engine("nash")


def test_every_engine_name_is_one_list() -> None:
    """One list of engines: the CLI's --model, a scenario's engine and make_engine follow it."""
    from typing import get_args

    from detente.cli.solve import Model
    from detente.scenario.coercion import EngineName

    assert get_args(EngineName) == ENGINE_NAMES
    assert tuple(m.value for m in Model) == ENGINE_NAMES
    for name in ENGINE_NAMES:
        assert make_engine(name).solve(
            ActorArrays(
                capability=np.ones((1, 3)),
                position=np.array([[0.0, 50.0, 100.0]]),
                salience=np.full((1, 3), 0.5),
            )
        ).forecast.shape == (1,)
