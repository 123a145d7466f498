"""The dashboard's API (FastAPI) and page.

Safety on a shared machine: scenarios are read from and saved to one configured folder, by name
only (no path ever comes from a request); saving never overwrites; YAML is parsed safely; request
size, draws and horizon are capped (422 with a clear message).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from detente import __version__
from detente.errors import InputError
from detente.forecast import DEFAULT_SEED, run_scenario
from detente.scenario.coercion import scenario_from_text
from detente.scenario.sample import load_lens
from detente.scenario.yamlio import load_yaml_text
from detente.store import RunStore
from detente.web.explore import install as install_explore

MAX_BODY_BYTES = 1_000_000
MAX_DRAWS = 20_000
MAX_HORIZON = 120
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}\.ya?ml$")


class RunRequest(BaseModel):
    """``POST /api/run``: the scenario as YAML (or JSON) text, as ``detente run`` reads a file."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(min_length=1, max_length=MAX_BODY_BYTES)
    draws: int = Field(default=1000, ge=1, le=MAX_DRAWS)
    seed: int = Field(default=DEFAULT_SEED, ge=0)
    horizon: int | None = Field(default=None, ge=1, le=MAX_HORIZON)
    lens: Literal["author", "proponent"] | None = None
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


def create_app(scenarios: Path, store: Path | None = None) -> FastAPI:
    """The dashboard for the scenarios in ``scenarios`` (a folder), runs in ``store``."""
    folder = scenarios.resolve()
    app = FastAPI(
        title="detente dashboard",
        version=__version__,
        description="Forecasts of whether pressure brings a government to direct talks.",
    )

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Any) -> Response:
        size = request.headers.get("content-length")
        if size is not None and (not size.isdigit() or int(size) > MAX_BODY_BYTES):
            return JSONResponse(
                {"detail": f"request too large: at most {MAX_BODY_BYTES:,} bytes"}, 422
            )
        response: Response = await call_next(request)
        return response

    install_explore(app, store)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> str:
        return resources.files("detente.web").joinpath("index.html").read_text(encoding="utf-8")

    @app.get("/api/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/api/scenarios")
    def list_scenarios() -> list[str]:
        return sorted(p.name for p in folder.iterdir() if p.is_file() and _NAME.match(p.name))

    @app.get("/api/scenarios/{name}")
    def get_scenario(name: str) -> dict[str, Any]:
        path = _scenario_path(folder, name)
        if not path.is_file():
            raise HTTPException(404, f"no scenario {name!r}")
        text = path.read_text(encoding="utf-8")
        try:
            scenario_from_text(text, name)
            data = load_yaml_text(text, name)
        except InputError as exc:
            raise HTTPException(422, str(exc)) from None
        return {"name": name, "text": text, "data": data}

    @app.post("/api/run")
    def run(req: RunRequest) -> dict[str, Any]:
        """The same result as ``detente run --json``."""
        try:
            scn = scenario_from_text(req.scenario, "scenario")
            lens = load_lens(req.lens) if req.lens else None
        except InputError as exc:
            raise HTTPException(422, str(exc)) from None
        if req.horizon is None and scn.horizon > MAX_HORIZON:
            raise HTTPException(422, f"horizon {scn.horizon}: at most {MAX_HORIZON} months here")
        forecast = run_scenario(scn, req.draws, req.seed, req.horizon, lens)
        doc = forecast.to_dict()
        if req.record:
            doc["run_id"] = RunStore(store).add(
                "dashboard run",
                {"draws": req.draws, "seed": req.seed, "horizon": forecast.horizon,
                 "lens": req.lens},
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
        record = RunStore(store).get(run_id)
        if record is None:
            raise HTTPException(404, f"no run {run_id}")
        return record.to_dict(full=True)

    @app.post("/api/save", status_code=201)
    def save(req: SaveRequest) -> dict[str, str]:
        path = _scenario_path(folder, req.name)
        try:
            scn = scenario_from_text(req.scenario, req.name)
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
