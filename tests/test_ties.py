"""TIES: outcome coding, features knowable at the start, the outside-view model's backtest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from detente.errors import InputError
from detente.history import ties

from .conftest import ROOT
from .test_cli import detente

SHARED = ROOT.parent / "shared" / "data" / "ties" / "ties-4.1-dev.csv"
needs_shared = pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data/ties")


def synthetic(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """Episodes in the TIES layout where US-sent, threatened episodes succeed more often."""
    rng = np.random.default_rng(seed)
    us = rng.random(n) < 0.5
    threat = rng.random(n) < 0.5
    p = 0.2 + 0.3 * us + 0.3 * threat
    success = rng.random(n) < p
    return pd.DataFrame(
        {
            "caseid": np.arange(n),
            "primarysender": np.where(us, 2, 200),
            "sender2": np.nan,
            "institution": 0,
            "threat": threat.astype(int),
            "imposition": 1,
            "scommit": 2,
            "carrots": np.nan,
            "anticipatedtargetcosts": np.nan,
            "sanctiontype": "2 6",
            "sanctiontypethreat": np.nan,
            "issue1": 13,
            "issue2": np.nan,
            "issue3": np.nan,
            "finaloutcome": np.where(success, 7, 9),
        }
    )


def test_outcome_coding_and_features() -> None:
    df = pd.DataFrame(
        {c: [np.nan] * 6 for c in ties.REQUIRED}
        | {"finaloutcome": [1, 3, 6, 10, 9, np.nan],
           "sanctiontype": ["2 6 4 9", "", "7", "", "", ""],
           "imposition": [1, 0, 1, 1, 1, 1], "sanctiontypethreat": ["", "1", "", "", "", ""],
           "primarysender": [2, 2, 20, 2, 2, 2], "issue1": [4, 13, 3, 8, 9, 1]}
    )  # fmt: skip
    assert ties.outcome(df).tolist()[:5] == [1.0, 0.0, 1.0, 1.0, 0.0]
    assert np.isnan(ties.outcome(df).iloc[5])
    x = ties.features(df)
    assert list(x.columns) == list(ties.FEATURES)
    assert x.loc[0, ["type_2", "type_6", "type_4", "type_9"]].tolist() == [1, 1, 1, 1]
    assert x.loc[1, "threat_type_1"] == 1 and x.loc[1, "type_1"] == 0  # threat stage only
    assert x["us_sender"].tolist() == [1, 1, 0, 1, 1, 1] and x.loc[0, "issue_4"] == 1


def test_model_beats_the_base_rate_out_of_sample() -> None:
    train, test = synthetic(600, 1), synthetic(400, 2)
    res = ties.backtest(train, test)
    assert res["n_train"] == 600 and res["n_test"] == 400
    assert res["brier"] < res["base_rate_brier"] and res["auc"] > 0.6
    cv = ties.cross_validate(synthetic(500, 3), folds=5)
    assert cv["n"] == 500 and cv["brier"] < cv["base_rate_brier"]


def test_scores_by_hand() -> None:
    s = ties.scores(np.array([0.8, 0.3]), np.array([1.0, 0.0]), 0.5)
    assert s["brier"] == pytest.approx((0.04 + 0.09) / 2)
    assert s["base_rate_brier"] == pytest.approx(0.25)
    assert s["log_loss"] == pytest.approx(-(np.log(0.8) + np.log(0.7)) / 2)
    assert s["auc"] == 1.0


def test_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="missing TIES columns"):
        ties.read_ties(bad)
    with pytest.raises(InputError, match="no such file"):
        ties.read_ties(tmp_path / "none.csv")


@needs_shared
def test_reference_figures_of_the_development_split() -> None:
    df = ties.read_ties(SHARED)
    y = ties.outcome(df)
    assert int(y.notna().sum()) == 713  # the data's README
    code = pd.to_numeric(df["finaloutcome"], errors="coerce")
    after = code.isin([6, 7, 8, 9, 10])
    assert int(after.sum()) == 378
    assert code[after].isin([6, 7, 10]).mean() == pytest.approx(0.571, abs=5e-4)


@needs_shared
def test_backtest_ties_cli(tmp_path: Path) -> None:
    df = pd.read_csv(SHARED, encoding="latin-1", low_memory=False)
    a, b = tmp_path / "train.csv", tmp_path / "test.csv"
    df[df.caseid % 2 == 0].to_csv(a, index=False)
    df[df.caseid % 2 == 1].to_csv(b, index=False)
    r = detente("backtest", "ties", "--train", a, "--test", b, "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert {"n_train", "n_test", "brier", "base_rate_brier", "log_loss", "auc"} <= set(doc)
    assert doc["n_train"] + doc["n_test"] == 713
    cv = json.loads(detente("backtest", "ties", "--train", SHARED, "--cv", "5", "--json").stdout)
    assert cv["n"] == 713 and 0 < cv["brier"] < 0.3
    assert detente("backtest", "ties", "--train", a).returncode == 2


def test_wilson_interval_by_hand() -> None:
    lo, hi = ties.wilson(5, 10, z=1.96)  # the textbook case: 0.237 - 0.763
    assert lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634, abs=1e-4)
    assert ties.wilson(0, 0) == (0.0, 1.0)


def test_reference_class_on_synthetic_episodes() -> None:
    from detente.scenario.coercion import OutsideViewProfile

    df = synthetic(300, 4)
    view = OutsideViewProfile(
        us_sender=True, multiple_senders=False, institution=False, threat_first=True, source="t"
    )
    prof = ties.profile(view)
    assert prof["us_sender"] == 1.0 and "commitment_strong" not in prof
    ov = ties.outside_view(df, prof, k=20)
    # every US-sent, threatened episode agrees on all stated features: they form the class
    same = (df.primarysender == 2) & (df.threat == 1)
    assert ov.n == int(same.sum()) and ov.min_similarity == 1.0
    assert ov.successes == int((df.finaloutcome[same] == 7).sum())
    assert ov.lo <= ov.share <= ov.hi and ov.model_p > ov.base_rate


@needs_shared
def test_outside_view_cli_and_run(tmp_path: Path) -> None:
    iran = ROOT / "examples" / "cases" / "iran-2018.yaml"
    r = detente("outside-view", iran, "--ties", SHARED, "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert {"n", "share", "lo", "hi", "model_p", "base_rate", "caseids"} <= set(doc)
    assert 0 <= doc["lo"] <= doc["share"] <= doc["hi"] <= 1
    run = json.loads(detente("run", iran, "--draws", "100", "--ties", SHARED, "--json").stdout)
    assert run["outside_view"]["model_p"] == doc["model_p"]
    plain = detente("run", iran, "--draws", "100")
    assert "Outside view: give --ties FILE" in plain.stdout
    none = detente("outside-view", ROOT / "tests" / "data" / "neutral.yaml", "--ties", SHARED)
    assert none.returncode == 2 and "no outside_view block" in none.stderr


def test_when_an_outcome_was_on_record_by_hand() -> None:
    """Its end (December when the month is missing), else when last seen going on, else the
    latest such month in the file."""
    df = pd.DataFrame(
        {"endyear": [2000, 2000, np.nan, np.nan, 1990],
         "endmonth": [3, np.nan, np.nan, np.nan, 13],  # 13: no month of the year
         "ongoingasofyear": [np.nan, np.nan, 2003, np.nan, np.nan],
         "ongoingasofmonth": [np.nan, np.nan, 6, np.nan, np.nan]}
    )  # fmt: skip
    month = ties.known_month(df).tolist()
    assert month == [2000 * 12 + 2, 2000 * 12 + 11, 2003 * 12 + 5, 2003 * 12 + 5, 1990 * 12 + 11]
    assert len(ties.known_by(df, 2000 * 12 + 1)) == 1  # by 2000-02: the one ended in 1990
    assert len(ties.known_by(df, 2000 * 12 + 2)) == 2  # ... and the one ended 2000-03
    assert len(ties.known_by(df, 2003 * 12 + 5)) == 5


@needs_shared
def test_the_outside_view_as_of_a_month_sees_no_later_episode() -> None:
    """Iran 1979: the US sanctions over the hostages (TIES 1979111201, ended 1981) and every
    episode ended after 1979-11 are out of its reference class and of the model."""
    import detente

    df = ties.read_ties(SHARED)
    iran = ROOT / "examples" / "cases" / "iran-1979.yaml"
    view = detente.outside_view(iran, ties=SHARED).to_dict()
    assert view["as_of"] == "1979-11"
    known = ties.known_by(df, 1979 * 12 + 10)
    assert view["n_train"] == int(ties.outcome(known).notna().sum()) < 713
    later = set(df["caseid"].astype(str)) - set(known["caseid"].astype(str))
    assert "1979111201" in later and not later & set(view["caseids"])
    # as of a later month the class may take it: the same file, a different answer
    after = detente.outside_view(iran, ties=SHARED, as_of="1982-01").to_dict()
    assert after["n_train"] > view["n_train"]
    # too few episodes on record for a reference class: said, not computed
    early = detente.outside_view(ROOT / "examples" / "cases" / "yugoslavia-1948.yaml", ties=SHARED)
    assert early.missing == (
        "5 coded TIES episodes were on record by 1948-06 (fewer than k = 30): "
        "no outside view as of then"
    )
