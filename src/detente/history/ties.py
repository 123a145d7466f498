"""The outside view: base rates from TIES, the Threat and Imposition of Economic Sanctions data.

Source: Morgan, T. C., Bapat, N. & Kobayashi, Y. (2014), "Threat and imposition of economic
sanctions 1945-2005: Updating the TIES dataset", Conflict Management and Peace Science 31(5);
TIES version 4.1; cite the TIES 4.0 Users' Manual for the codes. The mapping of codes used here
is in ``docs/validation.md``.

Only features knowable when pressure starts are used: who sends, through which institution,
whether a threat came first, the sender's commitment, carrots, the sanction types and the issues,
and the anticipated cost to the target. Never the realised costs or the duration.

This module is the probabilistic model and its backtest (``detente backtest ties``), and the
outside view of a scenario (``detente outside-view``), whose ``outside_view`` block states its
features (:func:`profile`). A forecast as of a month learns only from the episodes whose outcome
was on record by then (:func:`known_by`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from detente.engines.base import FloatArray
from detente.errors import InputError
from detente.scenario.coercion import TIES_ISSUES as ISSUES
from detente.scenario.coercion import OutsideViewProfile, format_month

#: finaloutcome codes counted as success (target acquiescence or negotiated settlement).
SUCCESS = (1, 2, 5, 6, 7, 10)
#: finaloutcome codes counted as failure (stalemate or sender capitulation).
FAILURE = (3, 4, 8, 9)

#: Sanction types enter as one 0/1 feature per code: imposed types (``sanctiontype``, manual
#: variable 30) and, for episodes that stayed at the threat stage, threatened types
#: (``sanctiontypethreat``, variable 16), which the manual numbers differently, so they are kept
#: apart. Issues (``issue1..3``, variable 12) likewise, one feature per code.
SANCTION_TYPE_CODES = tuple(range(1, 11))
ISSUE_CODES = tuple(range(1, 16))
COMMITMENT = {"weak": 1, "moderate": 2, "strong": 3}  # scommit, ordinal
COSTS = {"minor": 1, "major": 2, "severe": 3}  # anticipatedtargetcosts, ordinal 1-3
US = 2  # Correlates of War code of the United States

FEATURES = (
    ["us_sender", "multiple_senders", "institution", "threat_first", "imposed"]
    + ["commitment_strong", "commitment_weak", "carrots", "costs_major_or_severe", "costs_unknown"]
    + [f"type_{t}" for t in SANCTION_TYPE_CODES]
    + [f"threat_type_{t}" for t in SANCTION_TYPE_CODES]
    + [f"issue_{i}" for i in ISSUE_CODES]
)

#: When an episode's outcome was on record: its end, or, for an episode still going on, the
#: date its coders last saw it so.
DATES = ("endyear", "endmonth", "ongoingasofyear", "ongoingasofmonth")
REQUIRED = (
    "caseid", "primarysender", "sender2", "institution", "threat", "imposition", "scommit",
    "carrots", "anticipatedtargetcosts", "sanctiontype", "sanctiontypethreat", "issue1", "issue2",
    "issue3", "finaloutcome",
)  # fmt: skip


def read_ties(path: str | Path) -> pd.DataFrame:
    """A TIES file (the published columns, as CSV); refuses a file without them.

    Every use of TIES fits or scores the logistic model: without scikit-learn this says which
    install brings it, before reading anything."""
    from detente.extras import require

    require("sklearn", "ties")
    p = Path(path)
    try:
        df = pd.read_csv(p, encoding="latin-1", low_memory=False)
    except FileNotFoundError:
        raise InputError(str(p), None, "no such file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(str(p), None, f"not a CSV file ({exc})") from None
    missing = [c for c in (*REQUIRED, *DATES) if c not in df.columns]
    if missing:
        raise InputError(str(p), "header", f"missing TIES columns {missing}")
    return df


def known_month(df: pd.DataFrame) -> pd.Series:
    """The month (year * 12 + month - 1, as :func:`detente.scenario.coercion.parse_month`) by
    which each episode's outcome was on record: its end, or, without one, when its coders last saw
    it going on; a missing month is December (the latest the year allows). An episode with
    neither date counts from the latest such month in the file, when the coding was done."""

    def month(year: str, mon: str) -> pd.Series:
        y = pd.to_numeric(df[year], errors="coerce")
        m = pd.to_numeric(df[mon], errors="coerce").where(lambda v: v.between(1, 12), 12)
        return y * 12 + m - 1

    end, seen = month("endyear", "endmonth"), month("ongoingasofyear", "ongoingasofmonth")
    known = end.fillna(seen)
    return known.fillna(known.max())


def known_by(df: pd.DataFrame, month: int) -> pd.DataFrame:
    """The episodes whose outcome was on record by ``month``: all a forecaster then could learn
    from (an episode still going on, or ended later, is hindsight)."""
    return df[(known_month(df) <= month).to_numpy()]


def outcome(df: pd.DataFrame) -> pd.Series:
    """1 = acquiescence or settlement, 0 = stalemate or sender capitulation, NaN = not coded."""
    code = pd.to_numeric(df["finaloutcome"], errors="coerce")
    return pd.Series(
        np.where(code.isin(SUCCESS), 1.0, np.where(code.isin(FAILURE), 0.0, np.nan)),
        index=df.index,
    )


def _codes(cell: object) -> set[int]:
    """'2 6 4 9' -> {2, 6, 4, 9}; empty -> set()."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return set()
    out = set()
    for part in str(cell).replace(",", " ").split():
        try:
            out.add(int(float(part)))
        except ValueError:
            continue
    return out


def features(df: pd.DataFrame) -> pd.DataFrame:
    """The 0/1 features of each episode (``FEATURES``), knowable when pressure starts."""
    num = {c: pd.to_numeric(df[c], errors="coerce") for c in REQUIRED if c != "caseid"}
    imposed = num["imposition"] == 1
    types = [
        _codes(a) if imp else set() for a, imp in zip(df["sanctiontype"], imposed, strict=True)
    ]
    threat_types = [
        set() if imp else _codes(b)
        for b, imp in zip(df["sanctiontypethreat"], imposed, strict=True)
    ]
    issues = [
        _codes(a) | _codes(b) | _codes(c)
        for a, b, c in zip(df["issue1"], df["issue2"], df["issue3"], strict=True)
    ]
    x = pd.DataFrame(index=df.index)
    x["us_sender"] = num["primarysender"] == US
    x["multiple_senders"] = num["sender2"].notna()
    x["institution"] = num["institution"] == 1
    x["threat_first"] = num["threat"] == 1
    x["imposed"] = imposed
    x["commitment_strong"] = num["scommit"] == COMMITMENT["strong"]
    x["commitment_weak"] = num["scommit"] == COMMITMENT["weak"]
    x["carrots"] = df["carrots"].notna() & (df["carrots"].astype(str).str.strip() != "")
    x["costs_major_or_severe"] = num["anticipatedtargetcosts"] >= COSTS["major"]
    x["costs_unknown"] = num["anticipatedtargetcosts"].isna()
    for code in SANCTION_TYPE_CODES:
        x[f"type_{code}"] = [code in t for t in types]
        x[f"threat_type_{code}"] = [code in t for t in threat_types]
    for code in ISSUE_CODES:
        x[f"issue_{code}"] = [code in i for i in issues]
    return x[list(FEATURES)].astype(float)


def profile(view: OutsideViewProfile) -> dict[str, float]:
    """The features a scenario states (the others are unknown, and left out of comparisons)."""
    out: dict[str, float] = {
        "us_sender": float(view.us_sender),
        "multiple_senders": float(view.multiple_senders),
        "institution": float(view.institution),
        "threat_first": float(view.threat_first),
        "imposed": float(view.imposed),
    }
    if view.commitment is not None:
        out["commitment_strong"] = float(view.commitment == "strong")
        out["commitment_weak"] = float(view.commitment == "weak")
    if view.carrots is not None:
        out["carrots"] = float(view.carrots)
    if view.anticipated_costs is not None:
        out["costs_major_or_severe"] = float(view.anticipated_costs != "minor")
        out["costs_unknown"] = 0.0
    if view.issues:
        codes = {ISSUES[i] for i in view.issues}
        out.update({f"issue_{c}": float(c in codes) for c in ISSUE_CODES})
    return out


def wilson(successes: int, n: int, z: float = 1.645) -> tuple[float, float]:
    """Wilson score interval for a proportion (90% for z = 1.645)."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class OutsideView:
    """The reference class (the k most similar coded episodes) and the model's prediction."""

    k: int
    n: int
    successes: int
    share: float
    lo: float
    hi: float
    min_similarity: float
    model_p: float
    base_rate: float
    n_train: int
    caseids: list[str]

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def outside_view(df: pd.DataFrame, prof: dict[str, float], k: int = 30) -> OutsideView:
    """Episodes most like the profile, and how they ended; plus the logistic model's forecast.

    Similarity is the share of the stated features on which an episode agrees with the profile;
    ties at the k-th place are all kept, so the class does not depend on the file's row order. The
    model sees the stated features; the unstated ones are set to their share in the data.
    """
    y = outcome(df)
    coded = y.notna().to_numpy()
    x = features(df)
    names = [f for f in FEATURES if f in prof]
    agree = (x[names].to_numpy()[coded] == np.array([prof[f] for f in names])[None, :]).mean(axis=1)
    cut = np.sort(agree)[::-1][min(k, len(agree)) - 1]
    keep = agree >= cut
    yk = y.to_numpy()[coded][keep]
    successes, n = int(yk.sum()), int(keep.sum())
    lo, hi = wilson(successes, n)
    order = np.argsort(-agree[keep], kind="stable")
    ids = df["caseid"].astype(str).to_numpy()[coded][keep][order]
    model = OutsideModel().fit(df)
    full = x[coded].mean()
    vector = np.array([prof.get(f, float(full[f])) for f in FEATURES])
    model_p = float(model.model_.predict_proba(vector[None, :])[0, 1])
    return OutsideView(
        k=k,
        n=n,
        successes=successes,
        share=successes / n,
        lo=lo,
        hi=hi,
        min_similarity=float(cut),
        model_p=model_p,
        base_rate=model.base_rate_,
        n_train=model.n_,
        caseids=ids.tolist(),
    )


def outside_view_as_of(
    df: pd.DataFrame, prof: dict[str, float], month: int, k: int = 30
) -> dict[str, Any]:
    """:func:`outside_view` from the episodes on record by ``month`` (:func:`known_by`), as the
    JSON of ``detente outside-view`` with its ``as_of``: a forecaster then could not learn from an
    episode still going on or ended later, the scenario's own among them. Fewer than ``k`` coded
    episodes, or episodes that all ended alike, give no reference class and no model:
    ``missing`` says so."""
    when = format_month(month)
    known = known_by(df, month)
    y = outcome(known).dropna()
    if len(y) < k or y.nunique() < 2:
        why = f"fewer than k = {k}" if len(y) < k else "all ended alike"
        return {
            "as_of": when,
            "missing": f"{len(y)} coded TIES episodes were on record by {when} ({why}): "
            "no outside view as of then",
        }
    return {"as_of": when, **outside_view(known, prof, k).to_dict()}


class OutsideModel:
    """A logistic regression on TIES features (scikit-learn, L2 penalty, C = 1)."""

    def __init__(self, c: float = 1.0) -> None:
        self.c = c

    def fit(self, df: pd.DataFrame) -> OutsideModel:
        from sklearn.linear_model import LogisticRegression

        y = outcome(df)
        keep = y.notna()
        self.model_ = LogisticRegression(C=self.c, max_iter=2000)
        self.model_.fit(features(df)[keep].to_numpy(), y[keep].to_numpy())
        self.base_rate_ = float(y[keep].mean())
        self.n_ = int(keep.sum())
        return self

    def predict_episodes(self, df: pd.DataFrame) -> FloatArray:
        return np.asarray(self.model_.predict_proba(features(df).to_numpy())[:, 1])


def scores(p: FloatArray, y: FloatArray, base_rate: float) -> dict[str, float]:
    """Brier score, the Brier score of always forecasting the base rate, log loss and AUC."""
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    return {
        "brier": float(brier_score_loss(y, p)),
        "base_rate_brier": float(brier_score_loss(y, np.full_like(p, base_rate))),
        "log_loss": float(log_loss(y, np.clip(p, 1e-9, 1 - 1e-9), labels=[0, 1])),
        "auc": float(roc_auc_score(y, p)) if len(set(y.tolist())) == 2 else float("nan"),
    }


def backtest(train: pd.DataFrame, test: pd.DataFrame) -> dict[str, float | int]:
    """Fit on ``train``, score on the coded episodes of ``test``."""
    model = OutsideModel().fit(train)
    y = outcome(test)
    keep = y.notna().to_numpy()
    p = model.predict_episodes(test)[keep]
    return {
        "n_train": model.n_,
        "n_test": int(keep.sum()),
        "train_base_rate": model.base_rate_,
        **scores(p, y.to_numpy()[keep], model.base_rate_),
    }


def cross_validate(df: pd.DataFrame, folds: int = 5, seed: int = 0) -> dict[str, float | int]:
    """Stratified k-fold: each episode is scored by a model that did not see it."""
    from sklearn.model_selection import StratifiedKFold

    y = outcome(df)
    coded = df[y.notna()].reset_index(drop=True)
    yc = outcome(coded).to_numpy()
    p = np.empty(len(coded))
    base = np.empty(len(coded))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(np.zeros(len(yc)), yc):
        model = OutsideModel().fit(coded.iloc[train_idx])
        p[test_idx] = model.predict_episodes(coded.iloc[test_idx])
        base[test_idx] = model.base_rate_
    from sklearn.metrics import brier_score_loss

    out: dict[str, float | int] = {
        "n": len(coded),
        "folds": folds,
        **scores(p, yc, float(yc.mean())),
    }
    # the honest baseline: each fold's own training base rate, not the whole file's
    out["base_rate_brier"] = float(brier_score_loss(yc, base))
    return out
