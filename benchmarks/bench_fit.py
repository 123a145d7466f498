"""Fitting benchmarks (``make bench``), wall-clock seconds, one run each, local:

* ``detente fit`` of the case library (the posterior mode of the choice's coefficients);
* the whole leave-one-out refit of the library (every case refitted without it and forecast
  as of its start), as ``detente backtest cases --cv`` runs it.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from detente.history import crossval
from detente.history import fit as fitting
from detente.history.cases import load_library
from detente.scenario.sample import apriori_coefficients

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    library = load_library(ROOT / "examples" / "cases")
    apriori = apriori_coefficients()
    rows = []
    start = time.perf_counter()
    batch = fitting.Batch.of(fitting.prepare([s for _, s in library], apriori))
    fitting.fit(batch, apriori)
    rows.append((f"fit, {len(library)} cases", time.perf_counter() - start))
    start = time.perf_counter()
    crossval.leave_one_out(library, draws=1000)
    rows.append(
        (f"leave-one-out refits and forecasts, {len(library)} cases", time.perf_counter() - start)
    )
    table = Table(title="Fitting (seconds)", title_justify="left")
    table.add_column("what")
    table.add_column("seconds", justify="right")
    for what, sec in rows:
        table.add_row(what, f"{sec:.1f}")
    Console().print(table)


if __name__ == "__main__":
    main()
