"""Refit the DEU ensemble's shipped weights on the development split, and only on it.

    .venv/bin/python scripts/fit_deu_ensemble.py [--k 10] [--seed 0]

Writes ``src/detente/history/ensemble_weights.json``: the weights fitted on every issue of
``examples/deu/deu3-dev.tsv``, what they were fitted on (file, its sha256, issues, proposals) and
when, and the K-fold cross-validated figures on the same file. Never point it at held-out data.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from detente.history.deu import read_deu
from detente.history.ensemble import WEIGHTS_FILE, fit_shipped_weights

ROOT = Path(__file__).resolve().parents[1]
DEV = Path("examples") / "deu" / "deu3-dev.tsv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--k", type=int, default=10, help="folds for the CV figures")
    parser.add_argument("--seed", type=int, default=0, help="seed of folds and bootstrap")
    args = parser.parse_args()
    data = read_deu(ROOT / DEV)
    doc = fit_shipped_weights(data, source=DEV.as_posix(), k=args.k, seed=args.seed)
    out = ROOT / "src" / "detente" / "history" / WEIGHTS_FILE
    out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}: weights {doc['weights']}")


if __name__ == "__main__":
    main()
