"""The HTML report: the numbers of `run --json`, and nothing loaded from outside the file."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from detente.scenario.coercion import load_scenario

from .test_cli import IRAN_2018, detente


def test_report_matches_run_and_is_self_contained(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    r = detente("report", IRAN_2018, "-o", out, "--draws", "400", "--seed", "3", "--samples", "16")
    assert r.returncode == 0, r.stderr
    page = out.read_text()
    run = json.loads(detente("run", IRAN_2018, "--draws", "400", "--seed", "3", "--json").stdout)
    for h, v in run["horizons"].items():
        row = re.search(rf"<td>{h} months</td><td class='num'>([0-9.]+)</td>", page)
        assert row is not None and row.group(1) == f"{v['p']:.2f}"
        assert f"{v['lo']:.2f} - {v['hi']:.2f}" in page
    sections = ["The question", "The forecast", "Month by month", "The factions"]
    sections += ["What drives the forecast", "The outside view", "Every assumption"]
    for section in sections:
        assert f"<h2>{section}</h2>" in page
    # no external resource: no scripts or styles by URL, images inline
    assert "<script" not in page and "<link" not in page
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:)""", page)
    assert (
        page.count("src='data:image/png;base64,") + page.count('src="data:image/png;base64,') >= 2
    )
    # every assumption with its source
    scn = load_scenario(IRAN_2018)
    said = scn.leader.legacy_weight.source or scn.leader.legacy_weight.assumption or ""
    assert "leader.legacy_weight" in page and html.escape(said[:40], quote=False) in page
    again = detente("report", IRAN_2018, "-o", out)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_report_shows_the_outside_view_when_given_ties(tmp_path: Path) -> None:
    from .test_ties import SHARED

    out = tmp_path / "r.html"
    if SHARED.exists():
        r = detente("report", IRAN_2018, "-o", out, "--draws", "100", "--samples", "0",
                    "--ties", SHARED)  # fmt: skip
        assert r.returncode == 0, r.stderr
        assert "Base rates from TIES" in out.read_text()
    plain = tmp_path / "plain.html"
    r = detente("report", IRAN_2018, "-o", plain, "--draws", "100", "--samples", "0")
    assert r.returncode == 0 and "Outside view: give --ties FILE" in plain.read_text()
