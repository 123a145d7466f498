"""Shared fixtures: the paper's worked example and the shipped data."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

from detente.engines import ActorArrays
from detente.scenario import load_actor_file

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def worked_example() -> ActorArrays:
    """Scholz, Calbert & Smith (2011): ten actors of BdM's 1994 EC emissions decision."""
    return load_actor_file(DATA / "eum-example.csv").issues[0].arrays()


# In CI, property tests run the same examples every time (a red CI must be reproducible);
# locally they explore new ones on every run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# Runs recorded by the commands under test go to a throw-away store, never the user's.
os.environ["DETENTE_STORE"] = str(Path(tempfile.mkdtemp(prefix="detente-test-")) / "runs.sqlite")
