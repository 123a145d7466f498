"""The dashboard's exploring endpoints: a scenario with edits beside the file's own forecast, its
numbers, the edited file as YAML (comments kept) and scenario discovery.

Every edit goes through the same validation as a file: the edits are applied to the parsed file
(:func:`detente.scenario.edits.apply_edits`) and the result is parsed as a scenario file is. Bad
input is a 422 whose ``detail`` is one line; ``field`` names the place in the scenario (or the
edit) so the page can show the message next to it.
"""

from __future__ import annotations

import io
import json
from html import escape
from pathlib import Path
from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from detente.analysis.discover import discover_scenario
from detente.errors import InputError
from detente.forecast import DEFAULT_SEED, Forecast, run_scenario
from detente.limits import SERVER_LIMITS, check_run
from detente.scenario.coercion import Scenario, iter_params, parse_scenario, scenario_from_text
from detente.scenario.edits import Edit, apply_edits
from detente.scenario.sample import load_lens
from detente.scenario.yamlio import check_yaml_text, load_yaml_text
from detente.store import RunStore, diff
from detente.web.runner import in_run_process

MAX_TEXT = 1_000_000
MAX_DRAWS = 20_000
MAX_DISCOVER_DRAWS = 5_000
MAX_HORIZON = 120
#: the server's caps on a run (factions, memory, the work budget): docs/limits.md
LIMITS = SERVER_LIMITS
#: the name the edited scenario carries in error messages
EDITED_NAME = "edited scenario"


class ScenarioText(BaseModel):
    """A scenario as YAML (or JSON) text, as a file holds it."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(min_length=1, max_length=MAX_TEXT)


class EditRequest(ScenarioText):
    """The file's text and the edits to make to it."""

    edits: list[Edit] = Field(default_factory=list)


class ExploreRequest(EditRequest):
    """``POST /api/explore``: the file's forecast and the edited one, same draws and seed."""

    draws: int = Field(default=1000, ge=1, le=MAX_DRAWS)
    seed: int = Field(default=DEFAULT_SEED, ge=0)
    horizon: int | None = Field(default=None, ge=1, le=MAX_HORIZON)
    lens: Literal["author", "proponent"] | None = None
    as_of: str | None = Field(default=None, max_length=7)


class DiscoverRequest(EditRequest):
    """``POST /api/explore/discover``: PRIM boxes over draws of the edited scenario."""

    draws: int = Field(default=2000, ge=50, le=MAX_DISCOVER_DRAWS)
    seed: int = Field(default=DEFAULT_SEED, ge=0)
    horizon: int = Field(default=24, ge=1, le=MAX_HORIZON)
    threshold: float = Field(default=0.5, gt=0.0, lt=1.0)


def _error(exc: InputError) -> JSONResponse:
    """422 with the one-line message and the place it names (an edit's path or the file's)."""
    where = exc.where or ""
    field = where.split(" ", 1)[1] if where.startswith("edits[") and " " in where else where
    return JSONResponse({"detail": str(exc), "field": field}, status_code=422)


def edited_data(req: EditRequest) -> tuple[Scenario, Any]:
    """The file's scenario, and the edited data validated as a file is (InputError if not)."""
    check_yaml_text(
        req.scenario, "scenario", aliases=False
    )  # aliases, depth: before anything is built
    base = scenario_from_text(req.scenario, "scenario")
    data = apply_edits(load_yaml_text(req.scenario, "scenario"), req.edits)
    # through JSON, so the edited data is what a file could hold
    return base, json.loads(json.dumps(data))


def _check_horizon(scn: Scenario, horizon: int | None) -> None:
    if horizon is None and scn.horizon > MAX_HORIZON:
        raise InputError("scenario", "horizon", f"{scn.horizon}: at most {MAX_HORIZON} months here")


def difference(base: Forecast, edited: Forecast) -> dict[str, Any]:
    """Edited minus file: the probability at each horizon (and each channel's) and by month."""
    a, b = base.by_horizon(), edited.by_horizon()
    by_h = {
        h: {
            "p": b[h]["p"] - a[h]["p"],
            "by_channel": {
                c: b[h]["by_channel"][c] - a[h]["by_channel"][c] for c in a[h]["by_channel"]
            },
        }
        for h in a
        if h in b
    }
    wa, wb = base.weights, edited.weights
    path = (wb @ edited.conditional_path()) - (wa @ base.conditional_path())
    return {"horizons": by_h, "p_talks": np.round(path, 12).tolist()}


def param_rows(scn: Scenario) -> list[dict[str, Any]]:
    """Every number of the file: path, distribution, allowed range, centre."""
    return [
        {
            "path": path,
            "kind": p.kind,
            "text": p.describe(),
            "uncertain": p.is_uncertain,
            "low": rng.low if np.isfinite(rng.low) else None,
            "high": rng.high if np.isfinite(rng.high) else None,
            "center": p.center(),
        }
        for path, p, rng in iter_params(scn)
    ]


def edited_yaml(text: str, edits: list[Edit]) -> str:
    """The file's text with the edits made, comments and layout kept (a round-trip YAML load)."""
    from ruamel.yaml import YAML

    yml = YAML(typ="rt")
    yml.preserve_quotes = True
    yml.width = 4096
    doc = yml.load(text)
    apply_edits(doc, edits)
    out = io.StringIO()
    yml.dump(doc, out)
    return out.getvalue()


def explore_doc(req: ExploreRequest) -> dict[str, Any]:
    """The work of ``POST /api/explore`` (a module-level function of picklable arguments, so it
    can run in a worker process): both runs, same draws and seed, and their difference."""
    base, data = edited_data(req)
    scn = parse_scenario(data, EDITED_NAME)
    _check_horizon(base, req.horizon)
    _check_horizon(scn, req.horizon)
    lens = load_lens(req.lens) if req.lens else None
    horizon = req.horizon or base.horizon
    fa = run_scenario(base, req.draws, req.seed, horizon, lens, as_of=req.as_of, limits=LIMITS)
    fb = run_scenario(scn, req.draws, req.seed, horizon, lens, as_of=req.as_of, limits=LIMITS)
    return {"baseline": fa.to_dict(), "edited": fb.to_dict(), "difference": difference(fa, fb)}


def discover_doc(req: DiscoverRequest) -> dict[str, Any]:
    """The work of ``POST /api/explore/discover`` (module level, as :func:`explore_doc`)."""
    _, data = edited_data(req)
    scn = parse_scenario(data, EDITED_NAME)
    check_run(req.draws, req.horizon + 1, len(scn.factions), scn.engine, LIMITS)
    return discover_scenario(scn, req.draws, req.seed, req.horizon, req.threshold)


#: Commands whose stored summary is a forecast by horizon: one kind, comparable with each other.
FORECAST_COMMANDS = ("run", "report", "dashboard run")


def run_kind(command: str) -> str:
    """The kind of a stored run: ``forecast`` or the command (sweep, sensitivity, ...)."""
    return "forecast" if command in FORECAST_COMMANDS else command


#: Paths of FastAPI's own API pages, which load Swagger UI and ReDoc from a CDN (blank offline).
_CDN_DOCS = ("/docs", "/docs/oauth2-redirect", "/redoc")


def api_page(schema: dict[str, Any]) -> str:
    """The API as one plain HTML page, from the OpenAPI schema: each endpoint with its method,
    summary, description, parameters and body; no script, nothing fetched, so it works offline."""
    rows = []
    for path, ops in schema.get("paths", {}).items():
        for method, op in ops.items():
            params = ", ".join(f"{p['name']} ({p.get('in', '')})" for p in op.get("parameters", []))
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = str(body.get("schema", {}).get("$ref", "")).rsplit("/", 1)[-1]
            rows.append(
                f"<tr><td><code>{escape(method.upper())}</code></td><td><code>{escape(path)}</code>"
                f"</td><td><b>{escape(op.get('summary', ''))}</b><br>"
                f"{escape(op.get('description', ''))}</td><td>{escape(params)}</td>"
                f"<td>{escape(ref)}</td></tr>"
            )
    models = "".join(
        f"<h3 id='{escape(name)}'>{escape(name)}</h3><p>{escape(m.get('description', ''))}</p>"
        "<ul>"
        + "".join(
            f"<li><code>{escape(k)}</code>: {escape(str(v.get('type', v.get('anyOf', ''))))}"
            f"{' (required)' if k in m.get('required', []) else ''}</li>"
            for k, v in m.get("properties", {}).items()
        )
        + "</ul>"
        for name, m in schema.get("components", {}).get("schemas", {}).items()
        if not name.startswith(("HTTPValidationError", "ValidationError"))
    )
    info = schema.get("info", {})
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(info.get('title', 'API'))}: API</title><style>"
        "body{font-family:system-ui,sans-serif;margin:1rem;max-width:70rem}"
        "table{border-collapse:collapse;width:100%;font-size:.9rem}"
        "td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;vertical-align:top}"
        ".scroll{overflow-x:auto}</style></head><body>"
        f"<h1>{escape(info.get('title', 'API'))} {escape(info.get('version', ''))}</h1>"
        f"<p>{escape(info.get('description', ''))} The machine-readable schema: "
        "<a href='/openapi.json'>/openapi.json</a>.</p>"
        "<div class='scroll'><table><thead><tr><th>method</th><th>path</th><th>what</th>"
        f"<th>parameters</th><th>body</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        f"<h2>Bodies</h2>{models}</body></html>"
    )


def install(app: FastAPI, store: Path | None = None) -> None:
    """Add the exploring endpoints to ``app`` and replace its CDN-loaded API pages (Swagger UI,
    ReDoc) by :func:`api_page` at ``/docs``."""
    app.router.routes[:] = [
        r for r in app.router.routes if getattr(r, "path", None) not in _CDN_DOCS
    ]
    app.include_router(make_router(store))

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs() -> str:
        return api_page(app.openapi())


def make_router(store: Path | None = None) -> APIRouter:
    """The exploring endpoints (stateless: every request carries the scenario's text); stored
    runs are read from ``store``."""
    router = APIRouter()

    @router.get("/api/explore/runs-diff")
    def runs_diff(a: int, b: int) -> dict[str, Any]:
        """What differs between two stored runs of the same kind (as ``detente runs diff``)."""
        runs = RunStore(store)
        ra, rb = runs.get(a), runs.get(b)
        for run_id, rec in ((a, ra), (b, rb)):
            if rec is None:
                raise HTTPException(404, f"no run {run_id}")
        assert ra is not None and rb is not None
        ka, kb = run_kind(ra.command), run_kind(rb.command)
        if ka != kb:
            raise HTTPException(
                422, f"run {a} is a {ka}, run {b} a {kb}: compare runs of the same kind"
            )
        return {"kind": ka, **diff(ra, rb)}

    @router.post("/api/explore", response_model=None)
    async def explore(req: ExploreRequest, request: Request) -> dict[str, Any] | JSONResponse:
        """The file's forecast (``baseline``), the edited one (``edited``), both as ``detente run
        --json`` gives them, and ``difference`` (edited minus file) at each horizon and month.
        Run in the server's pool of run processes (time limit, cancellation: docs/limits.md)."""
        try:
            doc: dict[str, Any] = await in_run_process(request, explore_doc, req)
            return doc
        except InputError as exc:
            return _error(exc)

    @router.post("/api/explore/params", response_model=None)
    def params(req: ScenarioText) -> list[dict[str, Any]] | JSONResponse:
        """Every number of the scenario with its distribution and allowed range."""
        try:
            check_yaml_text(req.scenario, "scenario", aliases=False)
            return param_rows(scenario_from_text(req.scenario, "scenario"))
        except InputError as exc:
            return _error(exc)

    @router.post("/api/explore/yaml", response_model=None)
    def download_yaml(req: EditRequest) -> Response:
        """The edited scenario as a YAML file: the original's text and comments, the edits made."""
        try:
            _, data = edited_data(req)
            parse_scenario(data, EDITED_NAME)
            text = edited_yaml(req.scenario, req.edits)
        except InputError as exc:
            return _error(exc)
        except Exception as exc:  # ruamel's errors on text PyYAML read: rare, still one line
            first = (
                str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            )
            return JSONResponse({"detail": f"scenario: cannot keep its layout: {first}"}, 422)
        return Response(text, media_type="application/yaml")

    @router.post("/api/explore/discover", response_model=None)
    async def discover(req: DiscoverRequest, request: Request) -> dict[str, Any] | JSONResponse:
        """What would have to be true: PRIM boxes of the draws where talks pass the threshold
        (in the server's pool of run processes, as ``/api/explore``)."""
        try:
            doc: dict[str, Any] = await in_run_process(request, discover_doc, req)
            return doc
        except InputError as exc:
            return _error(exc)

    return router
