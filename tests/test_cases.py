"""The case-library backtest: outcomes from the record, scores against a leave-one-out base rate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from detente.history import cases

from .conftest import DATA, ROOT
from .test_cli import detente

NEUTRAL = yaml.safe_load((DATA / "neutral.yaml").read_text())


def write_case(folder: Path, cid: str, talks: bool, month: str | None, kind: str) -> None:
    data = dict(NEUTRAL, id=cid)
    data["outcome"] = {"talks": talks, "month": month, "kind": kind, "source": "test"}
    (folder / f"{cid}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def test_outcome_within_the_horizon_and_direct_only(tmp_path: Path) -> None:
    write_case(tmp_path, "a", True, "2020-06", "direct")  # month 5
    write_case(tmp_path, "b", True, "2023-01", "direct")  # month 36: too late for 24
    write_case(tmp_path, "c", True, "2020-03", "mediated")  # not direct
    write_case(tmp_path, "d", False, None, "none")
    (tmp_path / "actors.yaml").write_text("actors: {A: {capability: 1}}\nissues: []\n")
    lib = cases.load_library(tmp_path)
    assert [s.id for _, s in lib] == ["a", "b", "c", "d"]  # the actor table is skipped
    assert [cases.case_outcome(s, 24) for _, s in lib] == [1, 0, 0, 0]
    assert [cases.case_outcome(s, 48) for _, s in lib] == [1, 1, 0, 0]


def test_scores_by_hand() -> None:
    y = np.array([1.0, 0.0, 0.0, 1.0])
    assert cases.leave_one_out_base_rate(y).tolist() == [1 / 3, 2 / 3, 2 / 3, 1 / 3]
    p = np.array([0.9, 0.2, 0.4, 0.6])
    assert cases.brier(p, y) == pytest.approx((0.01 + 0.04 + 0.16 + 0.16) / 4)
    rows = cases.calibration(p, y, bins=2)
    assert rows[0]["n"] == 2 and rows[0]["observed"] == 0.0
    assert rows[1]["n"] == 2 and rows[1]["observed"] == 1.0


def test_backtest_cases_cli_json(tmp_path: Path) -> None:
    png = tmp_path / "calibration.png"
    r = detente(
        "backtest", "cases", ROOT / "examples" / "cases", "--draws", "200", "--json", "--plot", png
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["n_cases"] + len(doc["excluded"]) >= 15 and doc["horizon"] == 24
    got = {c["id"]: c["outcome"] for c in doc["cases"]}
    assert {k: got[k] for k in ("dprk-2017", "iran-2012", "iran-2018")} == {
        "dprk-2017": 1, "iran-2012": 1, "iran-2018": 0,
    }  # fmt: skip
    kinds = {c["kind"] for c in doc["cases"]}
    assert {"direct", "mediated"} <= kinds  # the library separates the two
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert {"brier", "base_rate_brier", "log_loss", "calibration"} <= set(doc)
    assert detente("backtest", "cases", tmp_path).returncode == 2  # no case there


def test_every_number_of_every_case_is_dated_and_known_by_the_start() -> None:
    """docs/codebook.md, the as-of rule: every value's source is dated, and a forecast as of the
    start may use every value it can see (values inside later phases and events are dated when
    those became known, and the run does not see them)."""
    from detente.forecast import as_of_index
    from detente.scenario.coercion import iter_params

    library = cases.load_library(ROOT / "examples" / "cases")
    assert len(library) >= 40
    for _, scn in library:
        undated = [p for p, param, _ in iter_params(scn) if param.dated is None]
        assert not undated, f"{scn.id}: {undated[:3]}"
        assert as_of_index(scn, scn.start) == 0
        assert scn.outcome is not None and scn.outcome.source
