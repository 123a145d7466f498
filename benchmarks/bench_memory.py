"""Benchmark (``make bench``): peak memory and time of the coercion model at 100,000 draws.

The flagship scenario (iran-2018, 36 months) is run as ``detente run --json`` would run it (the
draws, the simulation, then the JSON with its trajectories), in a child process of its own, so the
peak resident set size printed is that run's alone (``ru_maxrss`` of the child, which includes
Python and the imported libraries). ``--draws N`` runs another size.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP = ROOT / "examples" / "cases" / "iran-2018.yaml"

CHILD = """
import json, sys, time
from detente.forecast import run_scenario
from detente.scenario.coercion import load_scenario
scenario = load_scenario(sys.argv[1])
start = time.perf_counter()
forecast = run_scenario(scenario, draws=int(sys.argv[2]), seed=1)
doc = forecast.to_dict()
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "p12": doc["horizons"]["12"]["p"]}))
"""


def measure(draws: int) -> dict[str, float]:
    """Run the model in a child process; its wall seconds (run and JSON), and its peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(FLAGSHIP), str(draws)],
        check=True,
        capture_output=True,
        text=True,
    )
    total = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak_kib <= before:  # the maximum over children so far was an earlier, larger child
        raise RuntimeError("run the memory benchmark in a fresh process")
    doc = json.loads(out.stdout)
    return {
        "draws": draws,
        "run_seconds": doc["seconds"],
        "process_seconds": total,
        "peak_mb": peak_kib * 1024 / 1e6,
        "p12": doc["p12"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=100_000)
    args = parser.parse_args()
    m = measure(args.draws)
    print(
        f"coercion model, iran-2018, 36 months, {m['draws']:,} draws: "
        f"peak RSS {m['peak_mb']:.0f} MB, run and JSON {m['run_seconds']:.1f} s "
        f"(process {m['process_seconds']:.1f} s); P(talks within 12 months) {m['p12']:.6f}"
    )


if __name__ == "__main__":
    main()
