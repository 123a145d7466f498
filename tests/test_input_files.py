"""Reading user files safely: each failure of issue 13 (point 1) and issue 11 (messages) that
concerns scenario files and actor tables, as a one-line InputError with the expected text."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from detente.errors import InputError
from detente.forecast import run_scenario
from detente.scenario.actors import load_actor_file
from detente.scenario.coercion import (
    check_scenario_file,
    check_scenario_text,
    load_scenario,
    scenario_from_text,
)
from detente.scenario.limits import MAX_FILE_BYTES, MAX_SEED, validate_seed
from detente.scenario.yamlio import load_yaml_text, read_text
from detente.solve import solve_issue

from .conftest import DATA

BASE = (DATA / "neutral.yaml").read_text(encoding="utf-8")
HEADER = "actor,capability,position,salience\n"


def refused(path: Path, loader: object = load_scenario) -> str:
    """The one-line message ``loader`` gives for ``path``."""
    with pytest.raises(InputError) as info:
        loader(path)  # type: ignore[operator]
    text = str(info.value)
    assert "\n" not in text and text.startswith(str(path)), text
    return text[len(str(path)) + 2 :]


def scenario(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def table(tmp_path: Path, text: str | bytes, name: str = "t.csv") -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


# --- YAML: keys, depth, numbers, aliases -------------------------------------------------------


def test_a_list_as_key_is_one_line(tmp_path: Path) -> None:
    p = scenario(tmp_path, BASE + "? [a]\n: 1\n")
    assert refused(p) == "line 56: not valid YAML: a key must be a name, not a list"


def test_a_mapping_as_key_is_one_line(tmp_path: Path) -> None:
    p = scenario(tmp_path, "? {a: 1}\n: 1\n")
    assert refused(p) == "line 1: not valid YAML: a key must be a name, not a mapping"


@pytest.mark.parametrize("depth", [33, 450, 5000])
def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path: Path, depth: int) -> None:
    p = scenario(tmp_path, "x: " + "[" * depth + "]" * depth + "\n")
    assert refused(p).endswith("not valid YAML: nested more than 32 levels deep")


def test_nesting_within_the_limit_parses() -> None:
    assert load_yaml_text("x: " + "[" * 31 + "]" * 31, "f") is not None


def test_an_integer_of_5000_digits_under_an_unknown_key(tmp_path: Path) -> None:
    p = scenario(tmp_path, BASE + "junk: " + "9" * 5000 + "\n")
    assert refused(p) == "line 56: not valid YAML: an integer of 5,000 characters; at most 40"


def test_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for k in range(1, 9):
        lines.append(f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 10)}]")
    p = scenario(tmp_path, "\n".join(lines) + "\n")
    assert refused(p) == (
        "line 6: not valid YAML: more than 250,000 values (each use of an alias counts as a copy)"
    )


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path) -> None:
    p = scenario(tmp_path, "a: &a [1, *a]\n")
    assert refused(p) == "line 1: not valid YAML: alias *a inside its own anchor (a loop)"


def test_a_few_aliases_are_fine() -> None:
    data = load_yaml_text("a: &x {value: 1, assumption: t}\nb: *x\n", "f")
    assert data["a"] == data["b"] == {"value": 1, "assumption": "t"}


def test_an_impossible_date_is_one_line(tmp_path: Path) -> None:
    p = scenario(tmp_path, "start: 2020-02-31\n")
    assert refused(p) == "line 1: not valid YAML: not a valid date: '2020-02-31'"


def test_exponent_without_a_dot_is_a_number() -> None:
    assert load_yaml_text("a: 1e-3\nb: -2E4\nc: 1.5e3\nd: 12", "f") == {
        "a": 0.001,
        "b": -20000.0,
        "c": 1500.0,
        "d": 12,
    }


# --- files: kinds and sizes ---------------------------------------------------------------------


def test_a_fifo_named_yaml_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    done: list[str] = []
    worker = threading.Thread(target=lambda: done.append(refused(fifo)), daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert done == ["not a regular file (a pipe, device or socket)"]


def test_a_device_is_not_read() -> None:
    with pytest.raises(InputError, match=r"^/dev/zero: not a regular file"):
        read_text(Path("/dev/zero"))


def test_a_directory_named_yaml(tmp_path: Path) -> None:
    d = tmp_path / "d.yaml"
    d.mkdir()
    assert refused(d) == "is a directory, expected a file"


def test_a_file_over_the_size_limit(tmp_path: Path) -> None:
    p = scenario(tmp_path, "# " + "x" * MAX_FILE_BYTES + "\n")
    assert refused(p) == f"{MAX_FILE_BYTES + 3:,} bytes, larger than the 2 MiB allowed"


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_bytes(b"id: x\ntitle: \xff\n")
    assert refused(p) == "line 2: not a UTF-8 text file"


def test_a_bom_is_accepted_in_yaml_and_csv(tmp_path: Path) -> None:
    p = table(tmp_path, ("\ufeff" + BASE).encode(), "s.yaml")
    assert load_scenario(p).id == "neutral"
    t = table(tmp_path, ("\ufeff" + HEADER + "A,1,40,50\nB,1,60,50\n").encode())
    assert load_actor_file(t).issues[0].names == ["A", "B"]


# --- strict types and months ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("horizon: 24", "horizon: true", "horizon: expected a whole number (got True)"),
        ("horizon: 24", 'horizon: "36"', "horizon: expected a whole number (got '36')"),
        ("horizon: 24", "horizon: 24.5", "horizon: expected a whole number (got 24.5)"),
        (
            "exposure: {value: 0.4,",
            'exposure: {value: "0.5",',
            "pressure.oil.exposure.value: expected a number (got '0.5')",
        ),
        (
            "start: 2020-01",
            "start: ２０２０-０１",
            "start: expected a month as YYYY-MM, got '２０２０-０１'",
        ),
        (
            "start: 2020-01",
            "start: Nov 2021",
            "start: expected a month as YYYY-MM, got 'Nov 2021'",
        ),
        (
            "capability: {value: 50, assumption: test}",
            "capability: 90",
            "factions[0].capability: a number needs a source or an assumption: write "
            "{value: 90, source: ...} or {value: 90, assumption: ..., range: [low, high]}",
        ),
        (
            "exposure: {value: 0.4,",
            "exposure: {uniform: [0.4],",
            "pressure.oil.exposure.uniform: too few items: item [1] is missing",
        ),
        (
            "    veto: true",
            "    veto: 'yes'",
            "factions[0].veto: expected true or false (got 'yes')",
        ),
        (
            "capability: {value: 50, assumption: test}",
            "capability: {value: 1.0e308, assumption: test}",
            "factions[0].capability: value: numbers must lie within +-1e+09 (larger ones "
            "overflow in the engines' sums)",
        ),
        (
            "capability: {value: 50, assumption: test}",
            "capability: {uniform: [0, .inf], assumption: test}",
            "factions[0].capability: uniform: parameters must be finite numbers",
        ),
    ],
)
def test_strict_types_one_line_in_the_users_terms(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in BASE
    p = scenario(tmp_path, BASE.replace(old, new, 1))
    assert refused(p) == message
    assert "Input should" not in message and "pydantic" not in message


def test_a_yaml_date_is_read_as_its_month(tmp_path: Path) -> None:
    text = BASE.replace("start: 2020-01", "start: 2020-01-09").replace(
        "{month: 2020-07,", "{month: 2020-07-20,"
    )
    scn = load_scenario(scenario(tmp_path, text))
    assert (scn.start, scn.events[0].month) == ("2020-01", "2020-07")


def test_a_misspelt_key_suggests_the_right_one_and_counts_the_rest(tmp_path: Path) -> None:
    p = scenario(tmp_path, BASE.replace("salience: {value: 80", "salince: {value: 80", 1))
    assert refused(p) == (
        "factions[0].salience: missing field (and 1 more: run detente check " + str(p) + ")"
    )
    assert [str(e) for e in check_scenario_file(p)] == [
        f"{p}: factions[0].salience: missing field",
        f"{p}: factions[0].salince: unknown key; did you mean 'salience'?",
    ]


def test_check_lists_field_and_range_problems_together(tmp_path: Path) -> None:
    text = BASE.replace("horizon: 24", "horizon: 0").replace(
        "trust: {value: 0.5", "trust: {value: 5"
    )
    p = scenario(tmp_path, text)
    assert [e.where + ": " + e.message for e in check_scenario_file(p) if e.where] == [
        "horizon: expected a number at least 1 (got 0)",
        "sender_image.trust: 5 outside the allowed range [0, 1]",
    ]


def test_a_valid_file_has_no_problems() -> None:
    assert check_scenario_file(DATA / "neutral.yaml") == []
    assert check_scenario_text(BASE) == []


def test_problems_of_text_for_the_api() -> None:
    text = BASE.replace("horizon: 24", "horizon: 500").replace("title:", "titel:")
    assert [str(e) for e in check_scenario_text(text, "body")] == [
        "body: title: missing field",
        "body: horizon: expected a number at most 240 (got 500)",
        "body: titel: unknown key; did you mean 'title'?",
    ]


# --- seeds --------------------------------------------------------------------------------------


def test_seed_limits() -> None:
    assert validate_seed(0) == 0 and validate_seed(MAX_SEED) == MAX_SEED
    for bad in (2**63, -1, 10**5000, True, 1.5):
        with pytest.raises(InputError) as info:
            validate_seed(bad)
        assert str(info.value).startswith(
            f"--seed: expected a whole number from 0 to {MAX_SEED}"
        ) and "\n" not in str(info.value)


def test_a_run_refuses_a_seed_of_2_63_before_drawing() -> None:
    scn = scenario_from_text(BASE, "neutral.yaml")
    with pytest.raises(InputError, match=r"^--seed: expected a whole number"):
        run_scenario(scn, draws=10, seed=2**63)


# --- actor tables -------------------------------------------------------------------------------


@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_tables_are_read(tmp_path: Path, sep: str) -> None:
    text = HEADER.replace(",", sep) + f"A{sep}1{sep}40{sep}50\nB{sep}3{sep}60{sep}50\n"
    issue = load_actor_file(table(tmp_path, text)).issues[0]
    assert [(a.name, a.capability, a.position) for a in issue.actors] == [
        ("A", 1.0, 40.0),
        ("B", 3.0, 60.0),
    ]


def test_row_numbers_after_a_quoted_multiline_cell(tmp_path: Path) -> None:
    text = HEADER[:-1] + ',source\nA,1,40,50,"one\ntwo\nthree"\nB,x,60,50,\n'
    assert refused(table(tmp_path, text), load_actor_file) == (
        "row 5, field 'capability': expected a number, got 'x'"
    )


def test_a_cell_over_131072_characters(tmp_path: Path) -> None:
    text = HEADER + "A,1,40,50\nB,1,60," + "5" * 140_000 + "\n"
    assert refused(table(tmp_path, text), load_actor_file) == (
        "line 3: a cell longer than 131,072 characters"
    )


def test_huge_capabilities_are_refused_not_a_wrong_compromise(tmp_path: Path) -> None:
    text = HEADER + "A,1e308,40,50\nB,1e308,90,50\n"
    assert refused(table(tmp_path, text), load_actor_file) == (
        "row 2, field 'capability': expected a capability from 0 to 1e+09, got 1e+308"
    )


def test_the_largest_allowed_values_give_the_exact_compromise(tmp_path: Path) -> None:
    # at the bound the weighted mean is still exact: (1e9*100*40 + 1e9*100*-1e9) / (2e11)
    text = HEADER + "A,1e9,40,100\nB,1e9,-1e9,100\n"
    fc = solve_issue(load_actor_file(table(tmp_path, text)).issues[0])
    value = fc.results["compromise"].forecast[0]
    assert np.isfinite(value) and value == pytest.approx((40 - 1e9) / 2, rel=1e-12)


def test_full_width_digits_in_a_csv_number(tmp_path: Path) -> None:
    text = HEADER + "A,１,40,50\n"
    assert refused(table(tmp_path, text), load_actor_file) == (
        "row 2, field 'capability': expected a number, got '１'"
    )


def test_yaml_actor_table_strict_types(tmp_path: Path) -> None:
    text = (
        "actors:\n  A: {capability: true}\n"
        "issues: [{id: x, positions: {A: {position: 1, salience: 5}}}]\n"
    )
    assert refused(table(tmp_path, text, "t.yaml"), load_actor_file) == (
        "actors.A.capability: expected a number (got True)"
    )


def test_ktab_numbers_are_bounded(tmp_path: Path) -> None:
    text = "S,d,2,1\nActor,Description,Power,D1,S1\nA,a,1e300,50,50\nB,b,10,50,50\n"
    message = refused(table(tmp_path, text), load_actor_file)
    assert message == "line 3, field 'Power': 1e+300 is beyond +-1e+09"


def test_a_subnormal_capability_is_refused_not_a_fallback_compromise(tmp_path: Path) -> None:
    # 5e-324 x 0.5 underflowed to 0 and the compromise fell back to 50 where it is 60
    text = HEADER + "A,5e-324,40,1e-300\nB,5e-324,60,50\n"
    assert refused(table(tmp_path, text), load_actor_file) == (
        "row 2, field 'capability': 4.94066e-324: give 0 or at least 1e-09 (a smaller weight "
        "underflows to 0 in capability x salience; only ratios matter, so scale every actor up)"
    )


def test_tiny_numbers_in_a_scenario_and_a_ktab_file(tmp_path: Path) -> None:
    p = scenario(tmp_path, BASE.replace("{value: 50, assumption", "{value: 1.0e-12, assumption"))
    assert refused(p) == (
        "factions[0].capability: value: numbers must be 0 or at least 1e-09 in size (smaller "
        "ones underflow in the engines' products)"
    )
    text = "S,d,2,1\nActor,Description,Power,D1,S1\nA,a,1e-30,50,50\nB,b,10,50,50\n"
    assert refused(table(tmp_path, text), load_actor_file) == (
        "line 3, field 'Power': 1e-30: give 0 or at least 1e-09"
    )


def test_actor_table_readers_say_why_a_path_is_not_a_file(tmp_path: Path) -> None:
    fifo = tmp_path / "t.csv"
    os.mkfifo(fifo)
    assert refused(fifo, load_actor_file) == "not a regular file (a pipe, device or socket)"
    assert refused(tmp_path, load_actor_file) == "is a directory, expected a file"
    assert refused(Path("/dev/zero"), load_actor_file) == (
        "not a regular file (a pipe, device or socket)"
    )


def test_an_empty_actor_name_as_a_yaml_key(tmp_path: Path) -> None:
    # found by the fuzzer: an empty key made an Actor without a name (a pydantic traceback)
    text = (
        "actors:\n  '': {capability: 1}\n  B: {capability: 2}\n"
        "issues: [{id: x, positions: {'': {position: 1, salience: 5}}}]\n"
    )
    assert refused(table(tmp_path, text, "t.yaml"), load_actor_file) == (
        "actors: key '': must not be empty (and 1 more: run detente check "
        + f"{tmp_path / 't.yaml'})"
    )
