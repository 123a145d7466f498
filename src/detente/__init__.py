"""detente: will pressure bring a government to the negotiating table?

The public Python API (``docs/api.md``): every command of the ``detente`` CLI is one call here,
validated the same way (bad input raises :class:`InputError` with the CLI's one-line text).

>>> import detente
>>> f = detente.run("examples/cases/iran-2018.yaml", draws=500)  # doctest: +SKIP
>>> f.by_horizon()[24]["p"]  # doctest: +SKIP

Importing detente loads numpy and pydantic only; pandas, matplotlib, xarray, scipy's optimisers
and the web and Dask stacks are imported by the calls that use them.
"""

import sys
import types
from typing import TYPE_CHECKING, Any

from detente.extras import lazy_exports

if TYPE_CHECKING:
    from detente.analysis.sensitivity import ScenarioSensitivity
    from detente.api import (
        backtest_cases,
        backtest_deu,
        backtest_ties,
        compare,
        discover,
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

#: Where each public name lives; imported on first use (PEP 562), so `import detente` and
#: the command line's start load no numerical library until one is needed.
_EXPORTS: dict[str, str] = {
    "ScenarioSensitivity": "detente.analysis.sensitivity",
    "backtest_cases": "detente.api",
    "backtest_deu": "detente.api",
    "backtest_ties": "detente.api",
    "compare": "detente.api",
    "discover": "detente.api",
    "load_actors": "detente.api",
    "load_lens": "detente.api",
    "load_scenario": "detente.api",
    "outside_view": "detente.api",
    "run": "detente.api",
    "sensitivity": "detente.api",
    "solve": "detente.api",
    "sweep": "detente.api",
    "tipping_point": "detente.api",
    "Backend": "detente.backends",
    "DaskBackend": "detente.backends",
    "LocalBackend": "detente.backends",
    "make_backend": "detente.backends",
    "ActorArrays": "detente.engines",
    "Compromise": "detente.engines",
    "EngineResult": "detente.engines",
    "ExpectedUtility": "detente.engines",
    "Median": "detente.engines",
    "InputError": "detente.errors",
    "MissingExtra": "detente.extras",
    "Forecast": "detente.forecast",
    "run_scenario": "detente.forecast",
    "CasesBacktest": "detente.results",
    "Comparison": "detente.results",
    "DeuBacktest": "detente.results",
    "OutsideView": "detente.results",
    "Solution": "detente.results",
    "Sweep": "detente.results",
    "TiesBacktest": "detente.results",
    "TippingPoint": "detente.results",
    "load_actor_file": "detente.scenario",
    "Scenario": "detente.scenario.coercion",
    "Lens": "detente.scenario.sample",
    "IssueForecast": "detente.solve",
    "solve_issue": "detente.solve",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return sorted(__all__)


class _Package(types.ModuleType):
    """``detente.solve`` is the API's function, although a submodule has the same name: the
    import system sets a package's attribute to each submodule it loads, and this keeps the
    public function instead; the module's names are imported as ``from detente.solve import
    solve_issues`` (or through ``sys.modules["detente.solve"]``)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == "detente.api":
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


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
    "discover",
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
