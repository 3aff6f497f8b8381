"""The creativity-vs-conversion trade-off: sweep lambda, find the elbow per category.

For each root category and each lambda on a grid, every theme of the category ships its
top-ranked title; the curve is the mean (creativity, conversion) of those titles. As
lambda grows the curve trades conversion for creativity; the elbow (the "knee" of
arXiv 2505.23809's trade-off) is the point farthest from the chord between the curve's
ends once both axes are scaled to [0, 1] (the max-distance form of kneedle).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from subjectline.score.rerank import DEFAULT_LAMBDA, add_tradeoff_scores

LAMBDA_GRID = tuple(float(x) for x in np.round(np.linspace(0.0, 1.0, 21), 2))


@dataclass(frozen=True)
class ScoredTheme:
    """One theme's root category and its candidates' objectives (score_objectives frame)."""

    root_category: str
    objectives: pl.DataFrame


def sweep(themes: Sequence[ScoredTheme], grid: Sequence[float] = LAMBDA_GRID) -> pl.DataFrame:
    """``category, lam, creativity, conversion`` of the titles each lambda would ship."""
    rows = []
    for lam in grid:
        for entry in themes:
            scored = add_tradeoff_scores(entry.objectives, lam)
            best = scored.row(int(np.argmax(scored["score"].to_numpy())), named=True)
            rows.append((entry.root_category, lam, best["creativity"], best["conversion"]))
    frame = pl.DataFrame(
        rows,
        schema={
            "category": pl.String,
            "lam": pl.Float64,
            "creativity": pl.Float64,
            "conversion": pl.Float64,
        },
        orient="row",
    )
    return (
        frame.group_by("category", "lam")
        .agg(pl.col("creativity").mean(), pl.col("conversion").mean())
        .sort("category", "lam")
    )


def elbow(lams: np.ndarray, creativity: np.ndarray, conversion: np.ndarray) -> float:
    """The lambda whose point lies farthest from the chord joining the curve's ends; the
    default lambda when the curve does not move (no trade-off to make)."""
    points = np.column_stack([creativity, conversion]).astype(np.float64)
    span = points.max(axis=0) - points.min(axis=0)
    if (span <= 1e-12).all():
        return DEFAULT_LAMBDA
    scaled = (points - points.min(axis=0)) / np.where(span > 0, span, 1.0)
    start, end = scaled[0], scaled[-1]
    chord = end - start
    length = float(np.hypot(*chord))
    if length <= 1e-12:
        return DEFAULT_LAMBDA
    distance = np.abs(chord[0] * (scaled[:, 1] - start[1]) - chord[1] * (scaled[:, 0] - start[0]))
    if distance.max() / length <= 1e-9:
        # A straight curve has no knee: take the point best on both axes (a flat
        # conversion line gives creativity for free), the smallest lambda on ties.
        return float(lams[int(np.argmax(scaled.sum(axis=1)))])
    return float(lams[int(np.argmax(distance / length))])


def elbows(curves: pl.DataFrame) -> dict[str, float]:
    out = {}
    for (category,), curve in curves.group_by("category", maintain_order=True):
        out[str(category)] = elbow(
            curve["lam"].to_numpy(), curve["creativity"].to_numpy(), curve["conversion"].to_numpy()
        )
    return out


def plot_curves(curves: pl.DataFrame, chosen: dict[str, float], path: Path) -> Path:
    """Conversion against creativity per category, the elbow marked; PNG (Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    for (category,), curve in curves.group_by("category", maintain_order=True):
        x, y = curve["creativity"].to_numpy(), curve["conversion"].to_numpy()
        (line,) = ax.plot(x, y, marker="o", markersize=3, label=str(category))
        at = np.flatnonzero(np.isclose(curve["lam"].to_numpy(), chosen[str(category)]))
        if at.size:
            ax.scatter(x[at[0]], y[at[0]], s=90, facecolors="none", edgecolors=line.get_color())
    ax.set_xlabel("creativity (novelty, diversity, sentiment)")
    ax.set_ylabel("conversion (engagement, relevance, CTA, readability)")
    ax.set_title("Creativity vs conversion as lambda goes 0 -> 1 (circle: elbow)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_lambdas(path: Path, chosen: dict[str, float], curves: pl.DataFrame) -> Path:
    """``{"lambda": {category: value}, "curves": [...]}``, the file the pipeline reads."""
    payload: dict[str, Any] = {"lambda": chosen, "curves": curves.to_dicts()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    tmp.replace(path)
    return path
