"""Optional parts of detente and the install that brings them (``pip install detente[EXTRA]``).

The core install runs scenarios and prints results; figures, tables as data frames, the web
dashboard and the Dask backend need extras. A missing one is reported as one line naming the
command to run, never as an ImportError traceback.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

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


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` (PEP 562) that imports each name of ``exports`` (name -> module)
    on first use and keeps it in the package's namespace, so importing the package stays cheap."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
