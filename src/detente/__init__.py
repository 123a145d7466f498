"""detente: will pressure bring a government to the negotiating table?

The public Python API:

>>> from detente import load_actor_file, solve_issue
>>> table = load_actor_file("examples/iran-factions-2018.yaml")
>>> forecast = solve_issue(table.issues[0])
>>> round(forecast.results["compromise"].forecast[0], 2)  # doctest: +SKIP
"""

from detente.engines import ActorArrays, Compromise, EngineResult, ExpectedUtility, Median
from detente.forecast import Forecast, run_scenario
from detente.scenario import load_actor_file
from detente.scenario.coercion import Scenario, load_scenario
from detente.solve import IssueForecast, solve_issue

__version__ = "0.1.0"

__all__ = [
    "ActorArrays",
    "Compromise",
    "EngineResult",
    "ExpectedUtility",
    "Forecast",
    "IssueForecast",
    "Median",
    "Scenario",
    "__version__",
    "load_actor_file",
    "load_scenario",
    "run_scenario",
    "solve_issue",
]
