"""Calibration of the run limits (``src/detente/limits.py``): the wall time and the peak memory
of one run, each in a fresh Python process, by engine, factions, draws and months.

``python benchmarks/bench_limits.py`` prints one row per case: engine, factions, draws, months,
seconds, peak RSS (MiB), the peak above the interpreter's baseline, and what
:func:`detente.limits.estimate_run_bytes` predicted. The constants of ``limits.py`` come from
this table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, resource, sys, time
from detente.forecast import run_scenario
from detente.limits import estimate_run_bytes
from detente.scenario.coercion import load_scenario
import yaml
engine, factions, draws, months = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
data = yaml.safe_load(open(sys.argv[5], encoding="utf-8"))
base = data["factions"]
data["factions"] = [dict(base[k % len(base)], name=f"f{k}") for k in range(factions)]
for f in data["factions"]:
    f.pop("veto", None)
data["factions"][0]["veto"] = True
data["leader"]["faction"] = "f0"
data["engine"] = engine
data.pop("successor", None)
from detente.scenario.coercion import scenario_from_text
scn = scenario_from_text(yaml.safe_dump(data), "bench")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
run_scenario(scn, draws=draws, seed=1, horizon=months)
secs = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
est = estimate_run_bytes(draws, months + 1, factions)
print(json.dumps({"s": secs, "peak": peak / 1024, "above": (peak - before) / 1024,
                  "est": est / 2**20}))
"""

CASES = [
    ("compromise", 7, 1000, 36),
    ("compromise", 7, 20000, 120),
    ("compromise", 7, 100000, 36),
    ("compromise", 50, 2000, 120),
    ("compromise", 28, 5000, 120),
    ("median", 7, 20000, 120),
    ("eum", 7, 1000, 36),
    ("eum", 20, 200, 120),
    ("eum", 50, 100, 60),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the first and the EUM cases only")
    parser.add_argument("--only", help="cases of this engine only")
    args = parser.parse_args()
    cases = [c for c in CASES if not args.quick or c[0] == "eum" or c == CASES[0]]
    cases = [c for c in cases if args.only is None or c[0] == args.only]
    scenario = ROOT / "examples" / "cases" / "iran-2018.yaml"
    print("engine      factions   draws  months   seconds  peak MiB  above MiB  estimate MiB")
    for engine, factions, draws, months in cases:
        cmd = [sys.executable, "-c", _CHILD, engine, str(factions), str(draws), str(months)]
        out = subprocess.run([*cmd, str(scenario)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{engine:10} {factions:9} {draws:7} {months:7} {r['s']:9.2f} {r['peak']:9.0f}"
            f" {r['above']:10.0f} {r['est']:13.0f}"
        )


if __name__ == "__main__":
    main()
