"""Users' files -> validated models. Every error here names the file and the place in it.

The actor-table models load on first use (PEP 562): a coercion run does not need them."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from detente.scenario.actors import Actor, ActorFile, Issue, load_actor_file

__all__ = ["Actor", "ActorFile", "Issue", "load_actor_file"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("detente.scenario.actors"), name)
    raise AttributeError(f"module 'detente.scenario' has no attribute {name!r}")
