"""The code style the project holds itself to: ruff format, ruff lint, mypy (strict)."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT

PATHS = ["src", "tests", "benchmarks", "scripts"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=ROOT)


def test_ruff_format() -> None:
    r = run("ruff", "format", "--check", *PATHS)
    assert r.returncode == 0, r.stdout + r.stderr


def test_ruff_lint() -> None:
    r = run("ruff", "check", *PATHS)
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_strict() -> None:
    r = run("mypy")
    assert r.returncode == 0, r.stdout + r.stderr
