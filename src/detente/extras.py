"""Optional parts of detente and the install that brings them (``pip install detente[EXTRA]``).

The core install runs scenarios and prints results; figures, tables as data frames, the web
dashboard and the Dask backend need extras. A missing one is reported as one line naming the
command to run, never as an ImportError traceback.
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: What each extra is for (pyproject.toml's optional dependencies).
EXTRAS = {
    "viz": "figures, data frames and xarray datasets",
    "web": "the web dashboard (detente serve)",
    "dask": "the Dask distributed backend (--backend dask)",
}


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message says what to install."""

    def __init__(self, module: str, extra: str) -> None:
        self.module = module
        self.extra = extra
        super().__init__(
            f"{module} is not installed; {EXTRAS.get(extra, extra)} need it: "
            f"pip install 'detente[{extra}]'"
        )


def require(module: str, extra: str) -> ModuleType:
    """Import ``module``, or raise :class:`MissingExtra` naming ``pip install detente[extra]``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if exc.name is not None and not module.startswith(exc.name.split(".")[0]):
            raise  # the module is there but one of ITS imports failed: a real error
        raise MissingExtra(module.split(".")[0], extra) from None
