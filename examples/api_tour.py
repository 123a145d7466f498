"""A tour of detente's Python API, as one would use it in a notebook.

Run it from the repository's root: ``python examples/api_tour.py`` (the tests run it too). It
writes one figure, ``tour.png``, to $DETENTE_TOUR_OUT (default: the current folder).
"""

import os
from pathlib import Path

from matplotlib.figure import Figure

import detente

SCENARIO = "examples/cases/iran-2018.yaml"

# 1. A forecast: whether and when Iran's leadership opens direct talks with the US.
f = detente.run(SCENARIO, draws=500, seed=1)
print(f)  # a short summary; f.to_dict() is what `detente run --json` prints
p24 = f.by_horizon()[24]
print(
    f"P(talks within 24 months) = {p24['p']:.2f} +/- {p24['mc_se']:.3f} (Monte Carlo error); "
    f"90% interval over the parameter uncertainty {p24['lo']:.2f}-{p24['hi']:.2f}"
)
print(f.to_dataframe()[["horizon", "p", "lo", "hi", "mc_se"]])

# 2. Every draw's monthly paths as an xarray Dataset (dims draw, month, faction).
ds = f.to_xarray()
print(ds["position"].dims, dict(ds.sizes))

# 3. A counterfactual: the same draws without the sanctions' pressure.
cmp_ = detente.compare(SCENARIO, fixed={"pressure_scale": 0.0}, draws=500, seed=1)
print(cmp_)

# 4. Bad input is an InputError with the command line's one-line text.
try:
    detente.run(SCENARIO, fixed={"leader.legacy_wieght": 0.0})
except detente.InputError as exc:
    print("refused:", exc)

# 5. Where the legacy weight tips the 24-month probability over 10%.
tip = detente.tipping_point(SCENARIO, "leader.legacy_weight", target=0.1, horizon=24, draws=200)
print(tip)

# 6. A figure, drawn on axes we own (no pyplot state, no backend switched).
fig = Figure(figsize=(7, 4), layout="constrained")
f.plot(fig.subplots())
out = Path(os.environ.get("DETENTE_TOUR_OUT", ".")) / "tour.png"
fig.savefig(out, dpi=80)
print(f"figure written to {out}")
