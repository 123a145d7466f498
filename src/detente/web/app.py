"""The dashboard's API (FastAPI) and page.

Safety on a shared machine: scenarios are read from and saved to one configured folder, by name
only (no path ever comes from a request); saving never overwrites; YAML is parsed safely; request
size (413), draws and horizon (422) are capped with a clear message. What keeps the server up under
load and hostile requests (Host check, streamed body cap, headers, the run pool) is in
``guards``, ``runner`` and ``pool`` (docs/limits.md).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from detente import __version__
from detente.defaults import DEFAULT_SEED, MAX_SEED
from detente.errors import InputError
from detente.scenario.yamlio import load_yaml_text
from detente.store import RunStore
from detente.web.explore import install as install_explore
from detente.web.guards import install_guards
from detente.web.runner import RunService, lifespan, parse_scenario, read_folder_text
from detente.web.settings import ServerSettings

MAX_BODY_BYTES = 1_000_000
MAX_DRAWS = 20_000
MAX_HORIZON = 120
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}\.ya?ml$")


class RunRequest(BaseModel):
    """``POST /api/run``: the scenario as YAML (or JSON) text, as ``detente run`` reads a file."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(min_length=1, max_length=MAX_BODY_BYTES)
    draws: int = Field(default=1000, ge=1, le=MAX_DRAWS)
    seed: int = Field(default=DEFAULT_SEED, ge=0, le=MAX_SEED)
    horizon: int | None = Field(default=None, ge=1, le=MAX_HORIZON)
    lens: Literal["author", "proponent"] | None = None
    as_of: str | None = Field(default=None, pattern=r"^[0-9]{4}-[0-9]{2}$")
    record: bool = False


class SaveRequest(BaseModel):
    """``POST /api/save``: a new scenario file in the dashboard's folder (never an overwrite)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=90)
    scenario: str = Field(min_length=1, max_length=MAX_BODY_BYTES)


def _scenario_path(folder: Path, name: str) -> Path:
    if not _NAME.match(name):
        raise HTTPException(422, f"scenario name {name!r}: letters, digits, . _ - and .yaml")
    path = (folder / name).resolve()
    if path.parent != folder.resolve():
        raise HTTPException(422, f"scenario name {name!r} is not inside the scenarios folder")
    return path


def create_app(
    scenarios: Path, store: Path | None = None, settings: ServerSettings | None = None
) -> FastAPI:
    """The dashboard for the scenarios in ``scenarios`` (a folder), runs in ``store``, within
    ``settings`` (default: answering to this machine's names only)."""
    folder = scenarios.resolve()
    settings = settings or ServerSettings()
    app = FastAPI(
        title="detente dashboard",
        version=__version__,
        description="Forecasts of whether pressure brings a government to direct talks.",
        lifespan=lifespan,
    )
    install_guards(app, settings)
    runs_service = app.state.runs = RunService(settings)

    install_explore(app, store)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> str:
        return resources.files("detente.web").joinpath("index.html").read_text(encoding="utf-8")

    @app.get("/api/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/api/scenarios")
    def list_scenarios() -> list[str]:
        return sorted(p.name for p in folder.iterdir() if p.is_file() and _NAME.match(p.name))

    @app.get("/api/scenarios/{name}")
    def get_scenario(name: str) -> dict[str, Any]:
        path = _scenario_path(folder, name)
        if not path.is_file():
            raise HTTPException(404, f"no scenario {name!r}")
        try:
            text = read_folder_text(path, name, settings.max_body_bytes)
            parse_scenario(text, name)
            data = load_yaml_text(text, name)
        except InputError as exc:
            raise HTTPException(422, str(exc)) from None
        return {"name": name, "text": text, "data": data}

    @app.post("/api/run")
    async def run(req: RunRequest, request: Request) -> dict[str, Any]:
        """The same result as ``detente run --json`` (run in the pool: ``runner``)."""
        scn, doc = await runs_service.forecast(
            request, req.scenario, req.draws, req.seed, req.horizon, req.lens, req.as_of
        )
        if req.record:
            doc["run_id"] = await run_in_threadpool(
                RunStore(store).add,
                "dashboard run",
                {"draws": req.draws, "seed": req.seed, "horizon": doc["horizon"],
                 "lens": req.lens, "as_of": doc["as_of"]},
                {"horizons": doc["horizons"], "even_odds_month": doc["even_odds_month"]},
                dict(doc),
                scn.id,
                req.scenario,
                req.seed,
            )  # fmt: skip
        return doc

    @app.get("/api/runs")
    def runs(limit: int = 20, scenario: str | None = None) -> list[dict[str, Any]]:
        if not 1 <= limit <= 500:
            raise HTTPException(422, "limit: from 1 to 500")
        return [r.to_dict() for r in RunStore(store).list(limit, scenario)]

    @app.get("/api/runs/{run_id}")
    def run_record(run_id: int) -> dict[str, Any]:
        if not 0 <= run_id < 2**63:  # SQLite's integers: no such run, rather than an overflow
            raise HTTPException(404, f"no run {run_id}")
        record = RunStore(store).get(run_id)
        if record is None:
            raise HTTPException(404, f"no run {run_id}")
        return record.to_dict(full=True)

    @app.post("/api/save", status_code=201)
    def save(req: SaveRequest) -> dict[str, str]:
        path = _scenario_path(folder, req.name)
        try:
            scn = parse_scenario(req.scenario, req.name)
            data = load_yaml_text(req.scenario, req.name)
        except InputError as exc:
            raise HTTPException(422, str(exc)) from None
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        text = (
            f"# Saved from the detente dashboard on {stamp} (scenario id {scn.id}).\n"
            "# Values edited there carry the assumption 'set in the detente dashboard'.\n"
            + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
        )
        try:
            with path.open("x", encoding="utf-8") as fh:  # "x": fails if the file exists
                fh.write(text)
        except FileExistsError:
            raise HTTPException(409, f"{req.name} exists; choose a new name") from None
        return {"saved": req.name}

    return app
