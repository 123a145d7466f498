"""The DEU reader: who takes part in an issue, capability choices, and bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from detente.errors import InputError
from detente.history.deu import backtest_deu, read_deu

HEAD = "prnr\tisnr\tpcom\tpde\tpfr\tscom\tsde\tsfr\trp\tout\n"
CAPS = "\t\t1\t4\t3\t\t\t\t\t\n"


def write(tmp_path: Path, rows: str) -> Path:
    p = tmp_path / "d.tsv"
    p.write_text(HEAD + CAPS + rows)
    return p


def test_participation_needs_position_and_salience(tmp_path: Path) -> None:
    # issue 1: fr has a position but no salience; issue 2 has no outcome and is left out
    p = write(tmp_path, "1\t1\t100\t0\t50\t50\t100\t\t20\t10\n1\t2\t0\t0\t0\t1\t1\t1\t\t\n")
    data = read_deu(p)
    assert len(data.issues) == 1
    issue = data.issues[0]
    assert issue.actors == ["com", "de"] and issue.capability.tolist() == [1.0, 4.0]
    assert issue.commission == 100.0 and issue.reference_point == 20.0
    res = backtest_deu(data, models=("compromise",))
    # weights 1*50, 4*100: (100*50 + 0*400) / 450 = 11.11; outcome 10
    assert res["models"]["compromise"]["mae"] == pytest.approx(100 * 50 / 450 - 10)  # type: ignore[index]
    eq = read_deu(p, capability="equal")
    np.testing.assert_array_equal(eq.issues[0].capability, [1.0, 1.0])


def test_bad_cells_name_row_and_column(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"row 3, field 'pde': expected a number"):
        read_deu(write(tmp_path, "1\t1\t100\tabc\t50\t50\t100\t\t20\t10\n"))
    with pytest.raises(InputError, match=r"row 3, field 'sde': expected a salience"):
        read_deu(write(tmp_path, "1\t1\t100\t0\t50\t50\t120\t\t20\t10\n"))
    with pytest.raises(InputError, match="no issue with an outcome"):
        read_deu(write(tmp_path, "1\t1\t100\t0\t50\t50\t100\t\t20\t\n"))
