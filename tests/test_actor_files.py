"""Reading actor tables, and the one-line errors for bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from detente.errors import InputError
from detente.scenario import load_actor_file

from .conftest import DATA, ROOT

HEADER = "actor,capability,position,salience\n"


def write(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_csv_reads_the_worked_example() -> None:
    issue = load_actor_file(DATA / "eum-example.csv").issues[0]
    assert issue.names[:3] == ["Netherlands", "Belgium", "Luxembourg"]
    a = issue.arrays()
    assert a.salience[0, 0] == 0.8 and a.capability[0, 4] == 0.16 and a.risk is None


def test_csv_optional_columns(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "actor,capability,position,salience,risk,veto,source\n"
        "A,1,0,50,0.5,yes,a quote\nB,2,10,100,,no,\n",
    )
    issue = load_actor_file(p).issues[0]
    assert [a.veto for a in issue.actors] == [True, False]
    a = issue.arrays()
    assert a.risk is not None and a.risk[0, 0] == 0.5
    assert issue.actors[0].source == "a quote"


def test_yaml_reads_the_flagship() -> None:
    f = load_actor_file(ROOT / "examples" / "iran-factions-2018.yaml")
    issue = f.issues[0]
    assert issue.id == "direct-talks" and "Khamenei" in issue.names
    assert all(a.source for a in issue.actors)
    assert [a.name for a in issue.actors if a.veto] == ["Khamenei"]


BAD_CSV = [
    ("", "empty file"),
    ("actor,capability,position\nA,1,2\n", "header: missing column 'salience'"),
    (HEADER + "A,1,x,50\n", "row 2, field 'position': expected a number, got 'x'"),
    (HEADER + "A,-1,0,50\n", "row 2, field 'capability'"),
    (HEADER + "A,1,0,150\n", "row 2, field 'salience'"),
    (HEADER + "A,1,0,50\nB,1,0,50\nA,1,0,50\n", "row 4, field 'actor': duplicated actor 'A'"),
    (HEADER, "no actors"),
    (HEADER + "A,1,0\n", "row 2: 3 cells, expected 4"),
    (HEADER + "A,1,nan,50\n", "row 2, field 'position': expected a finite number"),
    ("actor,capability,position,salience,colour\nA,1,0,50,red\n", "unknown column 'colour'"),
    ("actor,capability,position,salience,veto\nA,1,0,50,maybe\n", "field 'veto'"),
    ("actor,capability,position,salience,risk\nA,1,0,50,3\n", "field 'risk'"),
]


@pytest.mark.parametrize(("text", "message"), BAD_CSV)
def test_bad_csv_names_file_row_and_field(tmp_path: Path, text: str, message: str) -> None:
    p = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_actor_file(p)
    line = str(info.value)
    assert line.startswith(str(p)) and message in line and "\n" not in line


YAML_OK = """
actors:
  A: {capability: 1}
  B: {capability: 2, veto: true}
issues:
  - id: one
    positions:
      A: {position: 0, salience: 50}
      B: {position: 10, salience: 80}
"""

BAD_YAML = [
    ("", "empty file"),
    ("[1, 2]", "expected a mapping"),
    ("actors: {A: {capability: 1}}\nissues: []\n", "issues"),
    (YAML_OK.replace("salience: 80", "salience: 180"), "issues[0].positions.B.salience"),
    (YAML_OK.replace("capability: 2", "capability: -2"), "actors.B.capability"),
    (YAML_OK.replace("veto: true", "vetoo: true"), "actors.B.vetoo: unknown key"),
    (
        YAML_OK.replace("      B: {position: 10", "      C: {position: 10"),
        "positions.C: not one of",
    ),
    (YAML_OK.replace("  B: {capability: 2", "  A: {capability: 2"), "duplicate key 'A'"),
    (
        YAML_OK.replace("{position: 0, salience: 50}", "{salience: 50}"),
        "positions.A.position: missing",
    ),
    ("actors: [\n", "not valid YAML"),
]


@pytest.mark.parametrize(("text", "message"), BAD_YAML)
def test_bad_yaml_names_the_path(tmp_path: Path, text: str, message: str) -> None:
    p = write(tmp_path, text, "t.yaml")
    with pytest.raises(InputError) as info:
        load_actor_file(p)
    assert message in str(info.value) and str(p) in str(info.value)


def test_missing_file_and_unknown_type(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_actor_file(tmp_path / "none.csv")
    with pytest.raises(InputError, match="unknown file type"):
        load_actor_file(write(tmp_path, "x", "t.txt"))
