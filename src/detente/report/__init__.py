"""Self-contained HTML reports of a forecast (styles and figures inline; no external resource)."""

from __future__ import annotations

import base64
import html
import io
from datetime import UTC, datetime
from typing import Any

from detente import __version__
from detente.analysis.sensitivity import ScenarioSensitivity
from detente.dynamics.simulate import CHANNELS
from detente.forecast import Forecast
from detente.scenario.coercion import Scenario, iter_params
from detente.scenario.sample import coefficient_params

_CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2rem auto;
       max-width: 62rem; padding: 0 1rem; color: #1f2328; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem;
       border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; }
.meta { color: #57606a; font-size: .9rem; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .9rem; width: 100%; }
th, td { border: 1px solid #d0d7de; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.big { font-size: 1.05rem; }
.note { background: #fff8c5; padding: .5rem .8rem; border-radius: 6px; }
img { max-width: 100%; border: 1px solid #d0d7de; border-radius: 6px; }
.small { font-size: .8rem; color: #57606a; }
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def _png(draw: Any, *args: Any) -> str:
    buf = io.BytesIO()
    draw(*args, buf)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _forecast_table(f: Forecast) -> str:
    rows = "".join(
        f"<tr><td>{h} months</td><td class='num'>{v['p']:.2f}</td>"
        f"<td class='num'>{v['lo']:.2f} - {v['hi']:.2f}</td>"
        + "".join(f"<td class='num'>{v['by_channel'][c]:.2f}</td>" for c in CHANNELS)
        + "</tr>"
        for h, v in f.by_horizon().items()
    )
    return (
        "<table><tr><th>direct talks within</th><th>probability</th><th>90% interval</th>"
        "<th>first: public</th><th>secret</th><th>mediated</th></tr>"
        f"{rows}</table>"
    )


def _factions_table(f: Forecast) -> str:
    rows = ""
    for k, (name, d) in enumerate(f.faction_paths().items()):
        lead = " (leader, veto)" if name == f.scenario.leader.faction else ""
        rows += (
            f"<tr><td>{_e(name)}{lead}</td><td class='num'>{f.initial_position[k]:.0f}</td>"
            f"<td class='num'>{d['position'][-1]:.0f}</td>"
            f"<td class='num'>{d['salience'][-1]:.0f}</td></tr>"
        )
    return (
        "<table><tr><th>faction</th><th>position at start</th><th>position at the end</th>"
        f"<th>salience at the end</th></tr>{rows}</table>"
    )


def _drivers(sens: ScenarioSensitivity | None, top: int = 12) -> str:
    if sens is None:
        return "<p class='note'>Sensitivity analysis was not run for this report.</p>"
    from detente.plots import plot_tornado

    rows = "".join(
        f"<tr><td>{_e(i.label)}</td><td class='num'>{i.ST:.3f} &plusmn; {i.ST_conf:.3f}</td>"
        f"<td class='num'>{i.S1:.3f} &plusmn; {i.S1_conf:.3f}</td></tr>"
        for i in sens.indices[:top]
    )
    img = _png(plot_tornado, sens)
    return (
        f"<p>Sobol indices of the probability of talks within {sens.horizon} months "
        f"({sens.rows:,} model runs, SALib, N = {sens.samples}). The total index ST is the share "
        "of the forecast's variance due to the parameter, with all its interactions.</p>"
        f"<img alt='tornado chart of Sobol indices' src='{img}'>"
        "<table><tr><th>parameter</th><th>total ST</th><th>first-order S1</th></tr>"
        f"{rows}</table>"
    )


def _assumptions(scn: Scenario, lens_name: str | None, lens_params: dict[str, Any]) -> str:
    rows = ""
    for path, p, _ in iter_params(scn):
        kind = "source" if p.source else "assumption"
        text = p.source or p.assumption or ""
        if p.source and p.assumption:
            text = f"{p.source} (assumption: {p.assumption})"
        rows += (
            f"<tr><td><code>{_e(path)}</code></td><td class='num'>{_e(p.describe())}</td>"
            f"<td>{kind}</td><td>{_e(text)}</td></tr>"
        )
    events = "".join(
        f"<tr><td>{_e(ev.month)}</td><td>{_e(ev.type)}</td><td>{_e(ev.by or '')}</td>"
        f"<td>{_e(ev.source)}</td></tr>"
        for ev in scn.events
    )
    coef = "".join(
        f"<tr><td><code>coefficients.{_e(n)}</code></td><td class='num'>{_e(p.describe())}</td>"
        f"<td>{'lens ' + _e(lens_name) if n in lens_params else 'shipped'}</td>"
        f"<td>{_e(p.assumption or p.source or '')}</td></tr>"
        for n, p in coefficient_params(None).items()
        if n not in lens_params
    )
    coef += "".join(
        f"<tr><td><code>coefficients.{_e(n)}</code></td><td class='num'>{_e(p.describe())}</td>"
        f"<td>lens {_e(lens_name)}</td><td>{_e(p.assumption or p.source or '')}</td></tr>"
        for n, p in lens_params.items()
    )
    head = "<tr><th>parameter</th><th>value</th><th>kind</th><th>source or reasoning</th></tr>"
    return (
        f"<h3>The scenario's numbers</h3><table>{head}{rows}</table>"
        "<h3>Events</h3><table><tr><th>month</th><th>event</th><th>by</th><th>source</th></tr>"
        f"{events}</table>"
        f"<h3>Global coefficients (the same for every case)</h3><table>{head}{coef}</table>"
    )


def _outside(view: dict[str, Any] | None) -> str:
    if view is None or "missing" in view:
        why = "not computed" if view is None else _e(view["missing"])
        return f"<p class='note'>Outside view: {why}.</p>"
    return (
        "<p>Base rates from TIES (Morgan, Bapat &amp; Kobayashi 2014): of the "
        f"{view['n']} coded episodes most like this one, {view['successes']} "
        f"(<b>{view['share']:.2f}</b>, 90% interval {view['lo']:.2f} - {view['hi']:.2f}) ended in "
        "target acquiescence or a negotiated settlement; a logistic model fitted on TIES "
        f"({view['n_train']} episodes) gives <b>{view['model_p']:.2f}</b> (base rate "
        f"{view['base_rate']:.2f}), from the episodes on record by {_e(view['as_of'])}. "
        "TIES codes how episodes ended, not whether the target talked: "
        "read it as the outside view of success, beside the model's inside view of talks.</p>"
    )


def _outcome(f: Forecast) -> str:
    """What happened (the file's ``outcome``, history the model never reads) beside what the
    forecast gave for it: P(direct talks within the months it took), or within the horizon when
    no talks came."""
    out = f.scenario.outcome
    if out is None:
        return ""
    facts = f"<p><b>What happened</b>: {_e(out.source)}</p>"
    if out.talks and out.month is not None:
        after = f.scenario.month_index(out.month) - f.origin
        how = f"{_e(out.kind)} talks" + (f", {_e(out.channel)} channel" if out.channel else "")
        if after < 1:
            said = (
                f"Talks opened in {_e(out.month)} ({how}), by the as-of month {_e(f.as_of)}: "
                "the forecast, conditioned on no talks by then, does not apply."
            )
        elif after > f.horizon:
            said = (
                f"Talks opened in {_e(out.month)} ({how}), {after} months after the as-of month, "
                f"past the horizon: the forecast gave <b>{1 - f.p_within(f.horizon):.2f}</b> to "
                f"no direct talks within {f.horizon} months, which came true."
            )
        else:
            said = (
                f"Talks opened in <b>{_e(out.month)}</b> ({how}), {after} months after the as-of "
                f"month; the forecast gave <b>{f.p_within(after):.2f}</b> to direct talks within "
                f"{after} months."
            )
    else:
        said = (
            f"No direct talks ({_e(out.kind)}); the forecast gave <b>"
            f"{1 - f.p_within(f.horizon):.2f}</b> to no direct talks within {f.horizon} months."
        )
    return f"<h2>What happened</h2>\n<div class='note'>{facts}<p>{said}</p></div>"


def _discovery(doc: dict[str, Any] | None) -> str:
    """What would have to be true: the PRIM boxes of ``detente discover`` (docs/analysis.md)."""
    if doc is None:
        return ""
    head = (
        f"<p>Draws where P(direct talks within {doc['horizon']} months) reaches "
        f"{doc['threshold']:g}: {doc['share']:.1%} of {doc['draws']:,} (scenario discovery with "
        "PRIM over every uncertain number; coverage: share of those draws inside a box; density: "
        "share of a box's draws that are such draws).</p>"
    )
    if not doc["boxes"]:
        return head + "<p>No box: too few or too many draws pass the threshold.</p>"
    parts = [head]
    for k, box in enumerate(doc["boxes"], 1):
        rows = "".join(
            f"<tr><td>{_e(name)}</td><td class='num'>"
            + " and ".join(
                f"{op} {lim[side]:.4g}"
                for side, op in (("low", "&ge;"), ("high", "&le;"))
                if lim[side] is not None
            )
            + "</td></tr>"
            for name, lim in box["limits"].items()
        )
        parts.append(
            f"<h3>Box {k}: coverage {box['coverage']:.2f}, density {box['density']:.2f}, "
            f"support {box['support']:.2f}</h3><table><tr><th>input</th><th>limits</th></tr>"
            f"{rows}</table>"
        )
    return "".join(parts)


def build_report(
    forecast: Forecast,
    sensitivity: ScenarioSensitivity | None = None,
    lens_params: dict[str, Any] | None = None,
    outside: dict[str, Any] | None = None,
    discovery: dict[str, Any] | None = None,
) -> str:
    """The whole report as one HTML document with everything inline; ``discovery`` (the JSON of
    ``detente discover``) adds "What would have to be true"."""
    from detente.plots import plot_forecast

    f, scn = forecast, forecast.scenario
    even = f.month_of_even_odds()
    verdict = (
        f"The probability of direct talks reaches even odds by <b>{_e(even)}</b>."
        if even
        else f"The probability of direct talks never reaches even odds within {f.horizon} months."
    )
    lens = f"; lens: {_e(f.lens)}" if f.lens else ""
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(scn.title)} - detente report</title><style>{_CSS}</style></head>
<body>
<h1>{_e(scn.title)}</h1>
<p class="meta">{_e(scn.sender)} &rarr; {_e(scn.target)}; from {_e(scn.start)}; as of the end of
{_e(f.as_of)} (only events announced by then; given no talks by then), {f.horizon} months;
{f.draws:,} draws, seed {f.seed}{lens}; engine {_e(scn.engine)}; detente {__version__};
made {created}.</p>
<h2>The question</h2>
<p class="big">{_e(scn.question)}</p>
<h2>The forecast</h2>
{_forecast_table(f)}
<p>{verdict} Probabilities are the mean over draws of the parameters' uncertainty; the interval runs
from the 5th to the 95th percentile over draws.</p>
{_outcome(f)}
<h2>Month by month</h2>
<img alt="monthly trajectories" src="{_png(plot_forecast, f)}">
<h2>The factions</h2>
<p>Positions on direct talks with the sender, 0 = refuse any talks, 100 = direct talks now
(mean over draws).</p>
{_factions_table(f)}
<h2>What drives the forecast</h2>
{_drivers(sensitivity)}
<h2>The outside view</h2>
{_outside(outside)}
{"<h2>What would have to be true</h2>" + _discovery(discovery) if discovery else ""}
<h2>Every assumption</h2>
{_assumptions(scn, f.lens, lens_params or {})}
<p class="small">Made with detente {__version__}. The scenario's numbers, the seed and the version
reproduce every figure here bit for bit: <code>detente run</code> with the same file and
<code>--seed {f.seed}</code>.</p>
</body></html>
"""
