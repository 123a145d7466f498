"""``detente new``, ``detente check`` and ``detente schema``, and the docs' skeleton that runs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from detente.cli import app
from detente.scenario.authoring import new_scenario_text, scenario_schema
from detente.scenario.coercion import load_scenario, scenario_from_text
from detente.scenario.yamlio import load_yaml_text

from .conftest import DATA, ROOT

runner = CliRunner()
EXAMPLES = sorted((ROOT / "examples" / "cases").glob("*.yaml"))


def test_new_then_run_exits_0(tmp_path: Path) -> None:
    out = tmp_path / "belarus.yaml"
    args = ["--sender", "EU and US", "--target", "Belarus", "--start", "2020-08", "-o", str(out)]
    r = runner.invoke(app, ["new", "belarus-2020", *args])
    assert r.exit_code == 0, r.output
    assert f"wrote {out}" in r.stdout
    r = runner.invoke(app, ["run", str(out), "--draws", "50", "--no-store", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert 0.0 <= doc["horizons"]["24"]["p"] <= 1.0


def test_new_marks_every_number_as_an_assumption_with_a_range(tmp_path: Path) -> None:
    text = new_scenario_text("x", "S", "T", "2021-03")
    scn = scenario_from_text(text, "new.yaml")
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    numbers = re.findall(r"\{value: [^}]*\}", body)
    assert len(numbers) == 26
    assert all("assumption:" in n and "range: [" in n for n in numbers)
    assert (scn.start, scn.sender, scn.target, scn.horizon) == ("2021-03", "S", "T", 24)


def test_new_never_overwrites_without_force(tmp_path: Path) -> None:
    out = tmp_path / "x.yaml"
    out.write_text("mine", encoding="utf-8")
    args = ["new", "x", "--sender", "S", "--target", "T", "--start", "2020-01", "-o", str(out)]
    r = runner.invoke(app, args)
    assert r.exit_code == 2
    assert r.stderr.strip() == (
        f"error: {out}: already exists; choose another name or pass --force to overwrite it"
    )
    assert out.read_text(encoding="utf-8") == "mine"
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0
    assert load_scenario(out).id == "x"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bad id!", "--start", "2020-01"], "ID: use only letters, digits, '.', '_' and '-'"),
        (["x", "--start", "Aug 2020"], "--start: expected a month as YYYY-MM, got 'Aug 2020'"),
    ],
)
def test_new_refuses_bad_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "x.yaml"
    r = runner.invoke(
        app, ["new", args[0], "--sender", "S", "--target", "T", *args[1:], "-o", str(out)]
    )
    assert r.exit_code == 2 and message in r.stderr and r.stderr.count("\n") == 1
    assert not out.exists()


def test_check_lists_both_problems_of_a_file_with_two(tmp_path: Path) -> None:
    text = (DATA / "neutral.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        text.replace("horizon: 24", 'horizon: "24"').replace(
            "{value: 0.3, assumption", "{value: 3, assumption", 1
        ),
        encoding="utf-8",
    )
    r = runner.invoke(app, ["check", str(bad), str(DATA / "neutral.yaml")])
    assert r.exit_code == 2
    assert r.stderr.splitlines() == [
        f"error: {bad}: horizon: expected a whole number (got '24')",
        f"error: {bad}: economy.evasion_max: 3 outside the allowed range [0, 1]",
    ]
    assert r.stdout.splitlines() == [f"{DATA / 'neutral.yaml'}: ok"]


def test_check_ok_exits_0() -> None:
    r = runner.invoke(app, ["check", str(DATA / "neutral.yaml"), str(EXAMPLES[0])])
    assert r.exit_code == 0 and r.stdout.count(": ok") == 2


def test_run_shows_the_first_problem_and_points_to_check(tmp_path: Path) -> None:
    text = (DATA / "neutral.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("horizon: 24", "horizon: true").replace("title:", "titel:"))
    r = subprocess.run(
        [sys.executable, "-m", "detente", "run", str(bad), "--no-store"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr == (
        f"error: {bad}: title: missing field (and 2 more: run detente check {bad})\n"
    )


def test_schema_validates_every_shipped_example() -> None:
    r = runner.invoke(app, ["schema"])
    assert r.exit_code == 0
    schema = json.loads(r.stdout)
    assert schema == json.loads(json.dumps(scenario_schema()))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert len(EXAMPLES) >= 40
    for path in [*EXAMPLES, DATA / "neutral.yaml"]:
        data = load_yaml_text(path.read_text(encoding="utf-8"), str(path))
        errors = [e.message for e in validator.iter_errors(data)]
        assert errors == [], path


def test_schema_refuses_what_the_loader_refuses() -> None:
    validator = jsonschema.Draft202012Validator(scenario_schema())
    data = load_yaml_text((DATA / "neutral.yaml").read_text(encoding="utf-8"), "n")
    for key, value in (("horizon", "24"), ("start", "Nov 2021"), ("colour", "red")):
        assert not validator.is_valid({**data, key: value}), key
    bare = json.loads(json.dumps(data))
    bare["factions"][0]["capability"] = 90
    assert not validator.is_valid(bare)


def skeleton() -> str:
    """The YAML block under '## The file' in docs/scenarios.md."""
    doc = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    section = doc.split("\n## The file\n", 1)[1]
    return section.split("```yaml\n", 1)[1].split("```\n", 1)[0]


def test_the_docs_skeleton_runs_as_written(tmp_path: Path) -> None:
    path = tmp_path / "skeleton.yaml"
    path.write_text(skeleton(), encoding="utf-8")
    scn = load_scenario(path)
    # every optional block is in it
    assert scn.sender_side and scn.mediators and scn.successor and scn.outside_view
    assert scn.outcome and len(scn.events) == 3
    r = runner.invoke(app, ["run", str(path), "--draws", "50", "--no-store", "--json"])
    assert r.exit_code == 0, r.output
    assert 0.0 <= json.loads(r.stdout)["horizons"]["36"]["p"] <= 1.0
