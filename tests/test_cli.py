"""The ``detente`` command end to end, as a user runs it.

Commands run in this process through typer's CliRunner (fast: no interpreter start, no imports
per test); :func:`detente_process` runs a real ``python -m detente`` for what only a process
shows (the entry point, signals, the exit status seen by a shell).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from detente.cli import app

from .conftest import DATA, ROOT
from .test_eum import REFERENCE_MEAN

FLAGSHIP = ROOT / "examples" / "iran-factions-2018.yaml"
DEU = ROOT / "examples" / "deu" / "deu3-dev.tsv"


@dataclass
class Ran:
    """What a command left: its exit status and what it wrote (as subprocess.run gives them)."""

    returncode: int
    stdout: str
    stderr: str


def detente(*args: str | Path) -> Ran:
    """``detente ARGS`` run in process from the repository's root. An exception that escapes the
    command (a traceback a user would see) is written to stderr as a process would show it."""
    with contextlib.chdir(ROOT):
        r = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=True)
    stderr = r.stderr
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        stderr += "Traceback (most recent call last):\n" + "".join(
            traceback.format_exception(r.exception)
        )
    return Ran(r.exit_code, r.stdout, stderr)


def detente_process(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``python -m detente ARGS`` as a real process, from the repository's root."""
    return subprocess.run(
        [sys.executable, "-m", "detente", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def test_solve_prints_every_engine_and_the_rounds() -> None:
    r = detente("solve", FLAGSHIP)
    assert r.returncode == 0, r.stderr
    for word in ("compromise", "median", "eum (published", "EUM round by round", "Khamenei (veto)"):
        assert word in r.stdout


def test_solve_json_contract() -> None:
    r = detente("solve", DATA / "eum-example.csv", "--json", "--variant", "scholz-code")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [a["name"] for a in doc["actors"]][:2] == ["Netherlands", "Belgium"]
    eum = doc["models"]["eum"]
    assert eum["history"]["mean"] == pytest.approx(REFERENCE_MEAN, abs=1e-9)
    assert len(eum["history"]["positions"]) == 11 and len(eum["history"]["positions"][0]) == 10
    assert doc["models"]["compromise"]["forecast"] == pytest.approx(REFERENCE_MEAN[0])
    assert doc["models"]["median"]["forecast"] == 7.0
    assert eum["forecast"] == pytest.approx(7.0)  # final median


def test_solve_one_model_rounds_and_plot(tmp_path: Path) -> None:
    png = tmp_path / "rounds.png"
    r = detente(
        "solve", DATA / "eum-example.csv", "-m", "eum", "--rounds", "4", "--plot", png, "--json"
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert list(doc["models"]) == ["eum"] and doc["models"]["eum"]["rounds"] == 4
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = detente("solve", DATA / "eum-example.csv", "--plot", png)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_solve_yaml_with_several_issues(tmp_path: Path) -> None:
    p = tmp_path / "two.yaml"
    p.write_text(
        "actors: {A: {capability: 1}, B: {capability: 3}}\n"
        "issues:\n"
        "  - id: one\n"
        "    positions: {A: {position: 0, salience: 100}, B: {position: 100, salience: 100}}\n"
        "  - id: two\n"
        "    positions: {A: {position: 10, salience: 50}, B: {position: 20, salience: 50}}\n"
    )
    doc = json.loads(detente("solve", p, "--json", "-m", "compromise").stdout)
    assert [i["models"]["compromise"]["forecast"] for i in doc["issues"]] == [75.0, 17.5]
    one = json.loads(detente("solve", p, "--json", "--issue", "two", "-m", "median").stdout)
    assert one["issue"] == "two"
    assert detente("solve", p, "--issue", "three").returncode == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("actor,capability,position\nA,1,2\n", "missing column 'salience'"),
        ("actor,capability,position,salience\nA,1,abc,50\n", "row 2, field 'position'"),
        ("actor,capability,position,salience\nA,-3,1,50\n", "row 2, field 'capability'"),
        ("actor,capability,position,salience\nA,1,1,101\n", "row 2, field 'salience'"),
        ("actor,capability,position,salience\nA,1,1,50\nA,1,2,50\n", "duplicated actor 'A'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, content: str, message: str) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(content)
    r = detente("solve", p)
    assert r.returncode == 2
    assert message in r.stderr and str(p) in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_missing_file_is_exit_2() -> None:
    r = detente("solve", "no-such-table.csv")
    assert r.returncode == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr


def test_backtest_deu_json_contract() -> None:
    r = detente("backtest", "deu", DEU, "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["n_issues"] == 231
    for name in ("compromise", "median", "eum"):
        assert {"mae", "median_ae", "n"} <= set(doc["models"][name])
    # the data's own reference figures (examples/deu/README.md, from the data's documentation)
    assert doc["models"]["compromise"]["mae"] == pytest.approx(24.81, abs=0.005)
    assert doc["models"]["median"]["mae"] == pytest.approx(29.16, abs=0.005)
    assert doc["baselines"]["commission"] == pytest.approx(
        {"n": 229, "mae": 39.14, "median_ae": doc["baselines"]["commission"]["median_ae"]},
        abs=0.005,
    )
    assert doc["baselines"]["reference_point"]["n"] == 167
    assert doc["baselines"]["reference_point"]["mae"] == pytest.approx(50.26, abs=0.005)


def test_backtest_deu_table_and_equal_capability() -> None:
    r = detente("backtest", "deu", DEU, "--capability", "equal", "--variant", "scholz-code")
    assert r.returncode == 0, r.stderr
    assert "capability = equal" in r.stdout and "naive: commission" in r.stdout


def test_backtest_deu_bad_file(tmp_path: Path) -> None:
    p = tmp_path / "x.tsv"
    p.write_text("a\tb\n1\t2\n3\t4\n")
    r = detente("backtest", "deu", p)
    assert r.returncode == 2 and "not the DEU layout" in r.stderr


def test_version() -> None:
    r = detente("--version")
    assert r.returncode == 0 and r.stdout.startswith("detente ")


IRAN_2018 = ROOT / "examples" / "cases" / "iran-2018.yaml"


def test_run_json_contract(tmp_path: Path) -> None:
    png = tmp_path / "paths.png"
    r = detente("run", IRAN_2018, "--draws", "300", "--seed", "5", "--json", "--plot", png)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["scenario"] == "iran-2018" and doc["draws"] == 300 and doc["seed"] == 5
    assert set(doc["horizons"]) == {"6", "12", "24", "36"}
    for h in doc["horizons"].values():
        assert 0 <= h["lo"] <= h["p"] <= h["hi"] <= 1
    # the start (the as-of month by default) and the 36 months after it
    assert doc["as_of"] == "2018-05"
    assert len(doc["months"]) == 37 and doc["months"][0] == "2018-05"
    assert len(doc["trajectories"]["p_talks"]) == 37
    assert doc["trajectories"]["p_talks"][24] == pytest.approx(doc["horizons"]["24"]["p"])
    for h in doc["horizons"].values():
        ch = h["by_channel"]
        assert ch["public"] + ch["secret"] == pytest.approx(h["p"])
        assert sum(ch.values()) <= 1 + 1e-12
    assert "Khamenei" in doc["factions"]
    assert png.read_bytes()[:4] == b"\x89PNG"
    again = detente("run", IRAN_2018, "--draws", "300", "--seed", "5", "--json")
    assert json.loads(again.stdout)["horizons"] == doc["horizons"]  # same seed, same numbers


def test_run_table_horizon_and_lens() -> None:
    r = detente("run", IRAN_2018, "--draws", "200", "--horizon", "12", "--lens", "proponent")
    assert r.returncode == 0, r.stderr
    assert "lens: proponent" in r.stdout and "12 months" in r.stdout and "24 months" not in r.stdout


def test_compare_lenses_and_scenarios() -> None:
    r = detente("compare", IRAN_2018, "--lens", "author", "--lens", "proponent", "--draws", "300",
                "--json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [x["lens"] for x in doc["runs"]] == ["author", "proponent"]
    assert doc["difference"]["24"] > 0.3
    two = detente(
        "compare", ROOT / "examples" / "cases" / "iran-2012.yaml", IRAN_2018, "--draws", "200"
    )
    assert two.returncode == 0 and "iran-2012" in two.stdout and "difference" in two.stdout
    assert detente("compare", IRAN_2018).returncode == 2


def test_run_bad_scenario_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = (ROOT / "tests" / "data" / "neutral.yaml").read_text()
    bad.write_text(text.replace("salience: {value: 70", "salience: {value: 170"))
    r = detente("run", bad)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "factions[1].salience: 170 outside the allowed range [0, 100]" in r.stderr
    assert detente("run", IRAN_2018, "--lens", "optimist").returncode == 2
