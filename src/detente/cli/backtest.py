"""Scores against real outcomes: backtest deu, backtest cases, backtest ties; and fit."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.markup import escape
from rich.table import Table

from detente import __version__
from detente.cli.common import (
    PNG,
    CoefficientsOpt,
    ForceOpt,
    JsonOpt,
    NoStoreOpt,
    Record,
    SeedOpt,
    StoreOpt,
    TiesOpt,
    check_output,
    fail,
    labelled_table,
    out,
    print_json,
    progress,
    record,
)
from detente.defaults import DEFAULT_SEED

if TYPE_CHECKING:
    from detente.results import DeuBacktest

backtest_app = typer.Typer(help="Score the engines against real outcomes.", no_args_is_help=True)


class CapabilityChoice(StrEnum):
    gdp = "gdp"
    equal = "equal"


class Variant(StrEnum):
    published = "published"
    scholz_code = "scholz-code"


@backtest_app.command("deu")
def backtest_deu(
    file: Annotated[Path, typer.Argument(help="A file in the DEU layout (tab-separated).")],
    capability: Annotated[
        CapabilityChoice, typer.Option(help="Capability: the file's row (gdp) or 1 for all.")
    ] = CapabilityChoice.gdp,
    variant: Annotated[Variant, typer.Option(help="EUM variant.")] = Variant.published,
    as_json: JsonOpt = False,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Only this forecaster: an engine, or 'ensemble' (the shipped weights, fitted on "
            "the development split; its members use their default settings).",
        ),
    ] = None,
    cv: Annotated[
        int | None,
        typer.Option(
            "--cv",
            min=2,
            help="With --model ensemble: K-fold cross-validation on FILE, folds grouped by "
            "proposal, weights refitted inside each fold; compared with the compromise model.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the CV folds and bootstrap.")] = 0,
) -> None:
    """Run every engine on every DEU issue with an outcome; mean and median absolute error."""
    from detente import api
    from detente.engines import ENGINE_NAMES
    from detente.history.ensemble import load_weights

    if cv is not None and model != "ensemble":
        fail("--cv goes with --model ensemble")
    if model not in (None, "ensemble", *ENGINE_NAMES):
        fail(f"unknown model {model!r}; expected one of {', '.join(ENGINE_NAMES)}, ensemble")
    total = (
        len(load_weights().members) if model == "ensemble" else 1 if model else len(ENGINE_NAMES)
    )
    with progress("members" if model == "ensemble" else "engines", total) as tick:
        res = api.backtest_deu(
            file,
            capability=capability.value,
            variant=variant.value,
            model=model,
            cv=cv,
            seed=seed,
            progress=tick,
        )
    doc = res.to_dict()
    if model == "ensemble":
        args: dict[str, Any] = {
            "file": str(file),
            "capability": capability.value,
            "model": "ensemble",
            "cv": cv,
            "seed": seed,
        }
        if cv is None:
            summary = {"n_issues": doc["n_issues"], "mae": doc["models"]["ensemble"]["mae"]}
        else:
            summary = {"n_issues": doc["n_issues"], "cv_mae": doc["cv_mae"]}
    else:
        args = {"file": str(file), "capability": capability.value, "variant": variant.value}
        summary = {
            "n_issues": doc["n_issues"],
            "mae": {k: v["mae"] for k, v in doc["models"].items()},
        }
    if as_json:
        print_json(doc)
    elif model == "ensemble":
        _print_ensemble(res, cv)
    else:
        table = labelled_table(
            f"DEU backtest: {res.n_issues} issues, capability = {capability.value}",
            ("forecast", "n", "mean abs. error", "median abs. error"),
        )
        for name, s in res.scores().items():
            table.add_row(name, str(s["n"]), f"{s['mae']:.2f}", f"{s['median_ae']:.2f}")
        out.print(table)
    record(store, no_store, Record("backtest deu", args, summary, doc))


def _print_ensemble(res: DeuBacktest, cv: int | None) -> None:
    """``backtest deu --model ensemble [--cv K]``: the shipped weights, or their CV on FILE."""
    doc = res.to_dict()
    if cv is None:
        w = ", ".join(f"{k} {v:.4f}" for k, v in doc["ensemble"]["weights"].items())
        table = labelled_table(
            f"DEU backtest, ensemble ({w}): {doc['n_issues']} issues",
            ("forecast", "n", "mean abs. error", "median abs. error"),
        )
        for name, sc in doc["models"].items():
            table.add_row(name, str(sc["n"]), f"{sc['mae']:.2f}", f"{sc['median_ae']:.2f}")
        out.print(table)
        return
    table = labelled_table(
        f"DEU ensemble, {cv}-fold CV by proposal: {doc['n_issues']} issues, "
        f"{doc['n_proposals']} proposals (95% bootstrap over proposals)",
        ("forecast", "CV MAE", "95% interval", "median abs. error"),
    )
    for name, iv in doc["cv_mae"].items():
        table.add_row(
            name,
            f"{iv['estimate']:.2f}",
            f"{iv['low']:.2f} - {iv['high']:.2f}",
            f"{doc['cv_median_ae'][name]:.2f}",
        )
    d = doc["difference_ensemble_minus_compromise"]
    table.add_row(
        "ensemble - compromise", f"{d['estimate']:+.2f}", f"{d['low']:+.2f} - {d['high']:+.2f}", ""
    )
    out.print(table)
    if d["high"] < 0:
        verdict = "beats the compromise model: the interval of the difference is below 0"
    elif d["low"] > 0:
        verdict = "does worse than the compromise model: the interval of the difference is above 0"
    else:
        verdict = "does not beat the compromise model: the interval of the difference includes 0"
    out.print(f"Out of sample the ensemble {verdict}.")


@backtest_app.command("cases")
def backtest_cases(
    folder: Annotated[Path, typer.Argument(help="Folder of scenarios with outcomes.")] = Path(
        "examples/cases"
    ),
    horizon: Annotated[int, typer.Option(min=1, max=240, help="Months.")] = 24,
    draws: Annotated[int, typer.Option(min=10, max=100_000, help="Draws per case.")] = 1000,
    seed: SeedOpt = DEFAULT_SEED,
    ties_file: TiesOpt = None,
    as_json: JsonOpt = False,
    plot: Annotated[Path | None, typer.Option(help="Calibration plot to this PNG.")] = None,
    force: ForceOpt = False,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
    origins: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=120,
            help="Also forecast every N months after each case's start, until its talks or "
            "horizon, each as of that month; scored by origin.",
        ),
    ] = None,
    cv: Annotated[
        bool,
        typer.Option(
            "--cv",
            help="Also refit the coefficients without each case in turn and forecast it: "
            "out-of-sample scores under 'cv'.",
        ),
    ] = False,
    lenses: Annotated[
        str | None,
        typer.Option(help="With --cv: lenses to weigh by their out-of-sample scores, a,b."),
    ] = None,
    fit_draws: Annotated[
        int,
        typer.Option(min=8, max=2000, help="With --cv or --forward: draws per case in the fits."),
    ] = 64,
    coefficients: CoefficientsOpt = None,
    forward: Annotated[
        bool,
        typer.Option(
            "--forward",
            help="Also forecast each case with coefficients fitted on the library's record at "
            "its as-of month only: forward-in-time scores under 'forward'.",
        ),
    ] = False,
) -> None:
    """Run the coercion model on every case with an outcome, as of its start (no event announced
    later is seen); Brier score against baselines; with --cv, out of sample; with --forward,
    forward in time."""
    from detente import api

    check_output(plot, force, PNG, "--plot")
    n_cases = len(list(folder.glob("*.yaml"))) if folder.is_dir() else 0
    steps = ["cases"] + ["leave-one-out refits"] * cv + ["forward refits"] * forward
    with progress(", then ".join(steps), n_cases * len(steps)) as tick:
        res = api.backtest_cases(
            folder,
            horizon=horizon,
            draws=draws,
            seed=seed,
            ties=ties_file,
            origins=origins,
            cv=cv,
            lenses=(lenses or "").split(","),
            fit_draws=fit_draws,
            coefficients=coefficients,
            progress=tick,
            cv_progress=tick,
            forward=forward,
        )
    doc = res.to_dict()
    if plot is not None:
        from detente.plots import plot_calibration

        plot_calibration(_calibration_doc(doc), plot)
    if as_json:
        print_json(doc)
    else:
        _print_cases(doc, horizon)
    record(
        store,
        no_store,
        Record(
            "backtest cases",
            {
                "folder": str(folder),
                "horizon": horizon,
                "draws": draws,
                "seed": seed,
                "origins": origins,
            },
            {k: doc[k] for k in ("n_cases", "brier", "base_rate_brier")},
            doc,
        ),
    )


def _print_cases(doc: dict[str, Any], horizon: int) -> None:
    table = labelled_table(
        f"Case library: direct talks within {horizon} months, as of each case's start",
        ("case", "model p", "TIES p", "outcome", "talks in the record"),
    )
    for r in doc["cases"]:
        tp = "" if r["outside_p"] is None else f"{r['outside_p']:.2f}"
        rec = f"{r['kind']}, {r['talks_month']}" if r["talks_month"] else r["kind"]
        table.add_row(r["id"], f"{r['p']:.2f}", tp, str(r["outcome"]), rec)
    out.print(table)
    out.print(
        f"Brier: model {doc['brier']:.3f}, leave-one-out base rate {doc['base_rate_brier']:.3f}"
        f"; log loss: model {doc['log_loss']:.3f}, base rate {doc['base_rate_log_loss']:.3f}"
    )
    out.print(
        "By horizon (Brier, model / base rate): "
        + "; ".join(
            f"{h} months {v['brier']:.3f} / {v['base_rate_brier']:.3f}"
            for h, v in doc["by_horizon"].items()
        )
    )
    if "by_origin" in doc:
        out.print(
            "By origin (months after the start: n, Brier model / base rate): "
            + "; ".join(
                f"{o}: {v['n']}, {v['brier']:.3f} / {v['base_rate_brier']:.3f}"
                for o, v in doc["by_origin"].items()
            )
        )
    if "cv" in doc:
        _print_cv(doc["cv"])
    if "forward" in doc:
        fw = doc["forward"]
        lo, hi = fw["brier_ci"]
        out.print(
            f"Forward in time (coefficients fitted on the record at each case's as-of month), "
            f"within {fw['horizon']} months, {fw['n']} cases: Brier {fw['brier']:.3f} (90% "
            f"bootstrap {lo:.3f}-{hi:.3f}), log loss {fw['log_loss']:.3f}; base rate of the "
            f"cases settled by then {fw['base_rate_brier']:.3f}; a-priori coefficients "
            f"{fw['unfitted_brier']:.3f}"
        )
    if "outside_view" in doc:
        ov = doc["outside_view"]
        out.print(
            f"TIES outside view on {ov['n_cases']} cases: Brier {ov['brier']:.3f} "
            f"(model on the same cases {ov['model_brier_same_cases']:.3f}); {ov['note']}"
        )


def fit(
    folder: Annotated[Path, typer.Argument(help="Folder of scenarios with outcomes.")] = Path(
        "examples/cases"
    ),
    output: Annotated[
        Path, typer.Option("-o", "--output", help="The fitted coefficients (.yaml).")
    ] = Path("coefficients.fitted.yaml"),
    draws: Annotated[int, typer.Option(min=8, max=2000, help="Draws per case.")] = 64,
    seed: SeedOpt = 1,
    lenses: Annotated[
        str | None,
        typer.Option(
            help="Also weigh these lenses (a,b) by leave-one-out scores and store the weights "
            "(for --lens weighted).",
        ),
    ] = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Fit the choice's global coefficients to a case library (posterior mode)."""
    from detente import api
    from detente.history import cases, crossval
    from detente.history import fit as fitting
    from detente.scenario.sample import apriori_coefficients

    check_output(output, force, (".yaml", ".yml"), "-o")
    library = cases.load_library(folder)
    names = [n.strip() for n in (lenses or "").split(",") if n.strip()]
    for name in names:
        api.load_lens(name)
    apriori = apriori_coefficients()
    with progress("fitting", 1) as tick:
        batch = fitting.Batch.of(fitting.prepare([s for _, s in library], apriori, draws, seed))
        result = fitting.fit(batch, apriori)
        tick(1)
    weights = None
    if names:
        with progress("leave-one-out (lens weights)", len(library)) as tick:
            rows = crossval.leave_one_out(
                library, fit_draws=draws, lenses=names, progress=tick, draws=500
            )
        lens_doc = crossval.weigh_lenses([r for r in rows if r.origin == 0], names, "24")
        weights = {n: float(cast(dict[str, Any], lens_doc[n])["weight"]) for n in names}
    text = fitting.fitted_file_text(
        result, apriori, folder, [p for p, _ in library], __version__, draws, seed, weights
    )
    output.write_text(text, encoding="utf-8")
    doc = {
        "output": str(output),
        "cases": len(library),
        "cases_with_information": len(result.case_ids),
        "converged": result.converged,
        "iterations": result.iterations,
        "log_posterior": result.log_posterior,
        "coefficients": {
            n: {"apriori": result.apriori[n], "fitted": v, "lo": result.lo[n], "hi": result.hi[n]}
            for n, v in result.values.items()
        },
        "lens_weights": weights,
    }
    if as_json:
        print_json(doc)
        return
    table = labelled_table(
        f"Fitted on {len(result.case_ids)} cases of {folder}",
        ("coefficient", "a priori", "fitted", "90% interval"),
    )
    for n, v in result.values.items():
        table.add_row(
            n, f"{result.apriori[n]:.3g}", f"{v:.3g}", f"{result.lo[n]:.3g}-{result.hi[n]:.3g}"
        )
    out.print(table)
    if weights:
        out.print("Lens weights: " + ", ".join(f"{k} {v:.2f}" for k, v in weights.items()))
    out.print(f"written to {escape(str(output))}")


def _calibration_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """What the calibration plot draws: the out-of-sample forecasts when there are some."""
    if "cv" not in doc:
        return doc
    cv = doc["cv"]
    h = str(cv["horizon"])
    return {
        "title": "Out of sample (leave one case out)",
        "cases": [{"id": c["id"], "p": c["p"][h], "outcome": c["outcome"][h]} for c in cv["cases"]],
        "calibration": cv["calibration"],
        "brier": cv["brier"],
        "base_rate_brier": cv["base_rate_brier"],
        "horizon": cv["horizon"],
    }


def _print_cv(cv: dict[str, Any]) -> None:
    lo, hi = cv["brier_ci"]
    out.print(
        f"Out of sample (coefficients refitted without each case), within {cv['horizon']} "
        f"months, {cv['n']} cases: Brier {cv['brier']:.3f} (90% bootstrap {lo:.3f}-{hi:.3f}), "
        f"log loss {cv['log_loss']:.3f}; base rate {cv['base_rate_brier']:.3f}; heuristic "
        f"(talks if legitimacy > 0) {cv['heuristic_brier']:.3f}; a-priori coefficients "
        f"{cv['unfitted_brier']:.3f}"
    )
    for name, lens in cv.get("lenses", {}).items():
        if name != "telling_cases":
            out.print(
                f"  lens {name}: Brier {lens['brier']:.3f}, log loss {lens['log_loss']:.3f}, "
                f"weight {lens['weight']:.2f}"
            )
    if "pooled" in cv and "brier" in cv["pooled"]:
        p = cv["pooled"]
        out.print(
            f"  pooled with TIES (weight on the model {p['weight_on_model']:.2f}): Brier "
            f"{p['brier']:.3f} (model {p['model_brier']:.3f}, TIES {p['outside_brier']:.3f})"
        )


@backtest_app.command("ties")
def backtest_ties(
    train: Annotated[
        Path, typer.Option(help="TIES episodes to fit on (CSV, the published columns).")
    ],
    test: Annotated[Path | None, typer.Option(help="TIES episodes to score on.")] = None,
    cv: Annotated[
        int | None, typer.Option(min=2, max=50, help="Instead of --test: k-fold cross-validation.")
    ] = None,
    as_json: JsonOpt = False,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
) -> None:
    """The outside-view model (logistic regression on TIES features) scored on other episodes."""
    from detente import api

    result = api.backtest_ties(train, test=test, cv=cv).to_dict()
    if as_json:
        print_json(result)
    else:
        how = (
            f"fit on {train}, scored on {test}"
            if test
            else f"{cv}-fold cross-validation on {train}"
        )
        table = Table(title=f"TIES outside-view model: {escape(how)}", title_justify="left")
        table.add_column("measure")
        table.add_column("value", justify="right")
        for key, value in result.items():
            if key != "outcome":
                table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
        out.print(table)
        out.print(escape(result["outcome"]))
    record(
        store,
        no_store,
        Record(
            "backtest ties",
            {"train": str(train), "test": None if test is None else str(test), "cv": cv},
            {
                k: v
                for k, v in result.items()
                if k in ("brier", "base_rate_brier", "log_loss", "auc")
            },
            result,
        ),
    )


def register(app: typer.Typer) -> None:
    app.add_typer(backtest_app, name="backtest")
    app.command("fit")(fit)
