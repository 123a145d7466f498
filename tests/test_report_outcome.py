"""The HTML report of a historical case shows what happened beside the forecast."""

from __future__ import annotations

from pathlib import Path

from detente.forecast import run_scenario
from detente.report import build_report
from detente.scenario.coercion import load_scenario

from .conftest import ROOT

CASES = ROOT / "examples" / "cases"


def test_a_case_with_talks_shows_when_and_the_forecast_for_it() -> None:
    f = run_scenario(load_scenario(CASES / "iran-2012.yaml"), 200, 3)
    page = build_report(f)
    assert "<h2>What happened</h2>" in page
    after = f.scenario.month_index("2013-03")  # the as-of month is the start: index 0
    assert (
        f"Talks opened in <b>2013-03</b> (direct talks, secret channel), {after} months after the "
        f"as-of month; the forecast gave <b>{f.p_within(after):.2f}</b> to direct talks within "
        f"{after} months."
    ) in page
    assert "Secret US-Iran talks in Oman from March 2013" in page


def test_a_case_without_talks_shows_the_forecast_of_none() -> None:
    f = run_scenario(load_scenario(CASES / "iran-2018.yaml"), 200, 3)
    page = build_report(f)
    assert (
        f"No direct talks (none); the forecast gave <b>{1 - f.p_within(36):.2f}</b> to no direct "
        "talks within 36 months."
    ) in page


def test_a_scenario_without_an_outcome_has_no_such_section() -> None:
    scn = load_scenario(CASES / "iran-2018.yaml").model_copy(update={"outcome": None})
    assert "What happened" not in build_report(run_scenario(scn, 50, 3))


def test_the_report_shows_what_would_have_to_be_true() -> None:
    from detente.analysis.discover import discover_scenario

    scn = load_scenario(CASES / "iran-2012.yaml")
    doc = discover_scenario(scn, 300, 3, 24, 0.5)
    page = build_report(run_scenario(scn, 50, 3), discovery=doc)
    assert "<h2>What would have to be true</h2>" in page
    box = doc["boxes"][0]
    assert f"<h3>Box 1: coverage {box['coverage']:.2f}, density {box['density']:.2f}" in page
    name, lim = next(iter(box["limits"].items()))
    assert f"<tr><td>{name}</td>" in page
    assert "What would have to be true" not in build_report(run_scenario(scn, 50, 3))


def test_report_discover_adds_the_boxes(tmp_path: Path) -> None:
    from .test_cli import detente

    out = tmp_path / "r.html"
    args = ["--draws", "300", "--samples", "0", "--no-store", "-o", out]
    r = detente("report", ROOT / "examples/cases/iran-2018.yaml", *args, "--discover")
    assert r.returncode == 0, r.stderr
    page = out.read_text(encoding="utf-8")
    assert "What would have to be true" in page
    plain = tmp_path / "plain.html"
    r = detente("report", ROOT / "examples/cases/iran-2018.yaml", "--draws", "300", "--samples",
                "0", "--no-store", "-o", plain)  # fmt: skip
    assert "What would have to be true" not in plain.read_text(encoding="utf-8")
