# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint bench clean validation fit

setup: $(STAMP)

# An editable install leaves the package uncompiled: compiled here, the first run starts fast even
# where PYTHONDONTWRITEBYTECODE keeps Python from caching it.
$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (detente needs Python 3.11+; set PYTHON=...)"; exit 2; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m compileall -q src/detente
	touch $(STAMP)

run: setup
	$(BIN)/detente run examples/cases/iran-2018.yaml

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

bench: setup
	$(BIN)/python benchmarks/bench_engines.py
	$(BIN)/python benchmarks/bench_analysis.py
	$(BIN)/python benchmarks/bench_fit.py
	$(BIN)/python benchmarks/bench_startup.py
	$(BIN)/python benchmarks/bench_memory.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .mypy_cache .ruff_cache

TIES ?= ../shared/data/ties/ties-4.1-dev.csv
validation: setup
	$(BIN)/python scripts/make_validation.py --ties $(TIES)

# Fit the choice's coefficients to the case library and ship them with the package.
fit: setup
	$(BIN)/detente fit examples/cases -o src/detente/scenario/coefficients.fitted.yaml --lenses author,proponent --force
