"""detente: will pressure bring a government to the negotiating table?

The public Python API (``docs/api.md``): every command of the ``detente`` CLI is one call here,
validated the same way (bad input raises :class:`InputError` with the CLI's one-line text).

>>> import detente
>>> f = detente.run("examples/cases/iran-2018.yaml", draws=500)  # doctest: +SKIP
>>> f.by_horizon()[24]["p"]  # doctest: +SKIP

Importing detente loads numpy and pydantic only; pandas, matplotlib, xarray, scipy's optimisers
and the web and Dask stacks are imported by the calls that use them.
"""

from detente.analysis.sensitivity import ScenarioSensitivity
from detente.api import (
    backtest_cases,
    backtest_deu,
    backtest_ties,
    compare,
    load_actors,
    load_lens,
    load_scenario,
    outside_view,
    run,
    sensitivity,
    solve,
    sweep,
    tipping_point,
)
from detente.backends import Backend, DaskBackend, LocalBackend, make_backend
from detente.engines import ActorArrays, Compromise, EngineResult, ExpectedUtility, Median
from detente.errors import InputError
from detente.extras import MissingExtra
from detente.forecast import Forecast, run_scenario
from detente.results import (
    CasesBacktest,
    Comparison,
    DeuBacktest,
    OutsideView,
    Solution,
    Sweep,
    TiesBacktest,
    TippingPoint,
)
from detente.scenario import load_actor_file
from detente.scenario.coercion import Scenario
from detente.scenario.sample import Lens
from detente.solve import IssueForecast, solve_issue

__version__ = "0.1.0"

#: The lenses shipped with detente (``lens="author"`` etc.); ``weighted`` mixes them.
LENSES = ("author", "proponent", "weighted")

__all__ = [
    "LENSES",
    "ActorArrays",
    "Backend",
    "CasesBacktest",
    "Comparison",
    "Compromise",
    "DaskBackend",
    "DeuBacktest",
    "EngineResult",
    "ExpectedUtility",
    "Forecast",
    "InputError",
    "IssueForecast",
    "Lens",
    "LocalBackend",
    "Median",
    "MissingExtra",
    "OutsideView",
    "Scenario",
    "ScenarioSensitivity",
    "Solution",
    "Sweep",
    "TiesBacktest",
    "TippingPoint",
    "__version__",
    "backtest_cases",
    "backtest_deu",
    "backtest_ties",
    "compare",
    "load_actor_file",
    "load_actors",
    "load_lens",
    "load_scenario",
    "make_backend",
    "outside_view",
    "run",
    "run_scenario",
    "sensitivity",
    "solve",
    "solve_issue",
    "sweep",
    "tipping_point",
]
