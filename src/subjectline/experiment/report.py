"""``experiment report``: an HTML page with embedded plots, and the same results as JSON."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import jinja2
import polars as pl

from subjectline.experiment.analysis import Analysis
from subjectline.experiment.definition import METRICS
from subjectline.experiment.group_sequential import verdict

_TEMPLATE = jinja2.Template(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
 table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
 th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: right; }
 th:first-child, td:first-child { text-align: left; }
 .ok { color: #176f2c; } .bad { color: #b00020; font-weight: bold; }
 img { max-width: 100%; }
</style></head><body>
<h1>{{ title }}</h1>
<h2>Sample ratio</h2>
<p class="{{ 'bad' if srm.mismatch else 'ok' }}">
 {{ 'Sample ratio mismatch: do not trust the results below until the assignment or logging '
    'is fixed.' if srm.mismatch else 'No sample ratio mismatch.' }}
 (chi-square p = {{ '%.3g' % srm.p_value }}; threshold 0.001)</p>
<table><tr><th>arm</th><th>sends</th><th>observed share</th><th>expected share</th></tr>
{% for arm, n in srm.observed.items() %}
<tr><td>{{ arm }}</td><td>{{ '{:,}'.format(n) }}</td>
<td>{{ '%.4f' % (n / total) }}</td><td>{{ '%.4f' % srm.expected_shares[arm] }}</td></tr>
{% endfor %}</table>
<img alt="SRM" src="data:image/png;base64,{{ plots.srm }}">
<h2>Arms</h2>
<table><tr><th>arm</th>{% for m in metric_names %}<th>{{ m }}</th>{% endfor %}</tr>
{% for arm, s in arms.items() %}<tr><td>{{ arm }}</td>
{% for m in metric_names %}<td>{{ fmt(s[m]) }}</td>{% endfor %}</tr>{% endfor %}</table>
<h2>Lift with 95% intervals</h2>
<p>Relative lift against <b>{{ control }}</b>; p-values adjusted by {{ correction }} across
all metrics and arms. Rates: pooled two-proportion z-test, unpooled Wald interval; revenue:
Welch t-test; CTOR: delta method{{ '; CUPED on pre_value' if cuped else '' }}.</p>
<img alt="lift" src="data:image/png;base64,{{ plots.lift }}">
<table><tr><th>metric</th><th>treatment</th><th>difference</th><th>95% CI</th>
<th>relative lift</th><th>95% CI</th><th>p</th><th>p adjusted</th><th>always-valid p</th>
<th>group-sequential</th></tr>
{% for c in comparisons %}<tr><td>{{ c.metric }}</td><td>{{ c.treatment }}</td>
<td>{{ fmt(c.difference) }}</td><td>[{{ fmt(c.ci95[0]) }}, {{ fmt(c.ci95[1]) }}]</td>
<td>{{ pct(c.relative_lift) }}</td>
<td>[{{ pct(c.relative_lift_ci95[0]) }}, {{ pct(c.relative_lift_ci95[1]) }}]</td>
<td>{{ '%.3g' % c.p_value }}</td><td>{{ '%.3g' % c.p_value_adjusted }}</td>
<td>{{ '%.3g' % c.sequential.p_value }}</td>
<td>{{ gs_cell(c.group_sequential) }}</td></tr>{% endfor %}</table>
{% if plots.timeline %}
<h2>Cumulative results over time</h2>
<p>Daily cumulative difference; light band: fixed-horizon 95% interval (not valid under
peeking), dark band: mSPRT 95% confidence sequence (valid at every look). Group-sequential
column: Lan-DeMets alpha spending over the planned daily looks (valid for those looks only;
it spends the whole alpha, so it usually rejects sooner than the mSPRT).</p>
<img alt="timeline" src="data:image/png;base64,{{ plots.timeline }}">
{% else %}<p>No <code>sent_at</code> column: no results over time.</p>{% endif %}
</body></html>"""
)


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _lift_plot(result: dict[str, Any]) -> str:
    import matplotlib.pyplot as plt

    rows = result["comparisons"]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1))
    labels = [f"{c['metric']} · {c['treatment']}" for c in rows]
    for y, c in enumerate(rows):
        low, high = c["relative_lift_ci95"]
        color = "#176f2c" if c["p_value_adjusted"] < 0.05 else "#555"
        ax.plot([100 * low, 100 * high], [y, y], color=color, lw=2)
        ax.plot(100 * c["relative_lift"], y, "o", color=color)
    ax.axvline(0, color="#b00020", lw=1)
    ax.set_yticks(range(len(rows)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("relative lift vs control (%) with 95% interval")
    return _png(fig)


def _srm_plot(result: dict[str, Any]) -> str:
    import matplotlib.pyplot as plt

    srm = result["srm"]
    arms = list(srm["observed"])
    total = sum(srm["observed"].values())
    fig, ax = plt.subplots(figsize=(6, 2.5))
    xs = range(len(arms))
    ax.bar([x - 0.2 for x in xs], [srm["observed"][a] for a in arms], 0.4, label="observed")
    ax.bar(
        [x + 0.2 for x in xs],
        [srm["expected_shares"][a] * total for a in arms],
        0.4,
        label="expected",
    )
    ax.set_xticks(list(xs), arms)
    ax.set_ylabel("sends")
    ax.legend()
    ax.set_title("mismatch" if srm["mismatch"] else "no mismatch")
    return _png(fig)


def _timeline_plot(timeline: pl.DataFrame) -> str | None:
    if timeline.is_empty() or timeline["day"].null_count() == timeline.height:
        return None
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(12, 6), sharex=True)
    for ax, metric in zip(axes.flat, METRICS, strict=True):
        part = timeline.filter(pl.col("metric") == metric)
        for treatment in part["treatment"].unique(maintain_order=True):
            rows = part.filter(pl.col("treatment") == treatment).drop_nulls("difference")
            days = rows["day"].to_list()
            ax.fill_between(days, rows["cs_low"], rows["cs_high"], alpha=0.35)
            ax.fill_between(days, rows["ci_low"], rows["ci_high"], alpha=0.2)
            ax.plot(days, rows["difference"], label=str(treatment))
        ax.axhline(0, color="#b00020", lw=1)
        ax.set_title(metric)
        ax.tick_params(axis="x", labelrotation=45)
    axes.flat[0].legend()
    fig.tight_layout()
    return _png(fig)


def write_report(
    analysis: Analysis, control: str, out_dir: Path, title: str = ""
) -> dict[str, Path]:
    """Write ``report.html`` and ``report.json`` to ``out_dir``; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    out_dir.mkdir(parents=True, exist_ok=True)
    result = analysis.to_dict()
    timeline = analysis.timeline
    payload = {**result, "timeline": timeline.to_dicts() if not timeline.is_empty() else []}
    json_path = out_dir / "report.json"
    json_path.write_text(json.dumps(payload, default=str, indent=1))
    plots = {
        "lift": _lift_plot(result),
        "srm": _srm_plot(result),
        "timeline": _timeline_plot(timeline),
    }
    html = _TEMPLATE.render(
        title=title or f"Experiment report: {', '.join(result['arms'])}",
        srm=analysis.srm,
        total=sum(analysis.srm.observed.values()),
        arms=result["arms"],
        metric_names=["n", *METRICS],
        comparisons=result["comparisons"],
        control=control,
        correction=analysis.correction,
        cuped=analysis.cuped,
        plots=plots,
        fmt=lambda v: f"{v:,.0f}" if isinstance(v, int) else f"{v:.4g}",
        pct=lambda v: f"{100 * v:+.2f}%",
        gs_cell=lambda gs: verdict(gs) if gs else "no sent_at",
    )
    html_path = out_dir / "report.html"
    html_path.write_text(html)
    return {"html": html_path, "json": json_path}
