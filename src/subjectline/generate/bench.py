"""A generation benchmark on a fixed set of synthetic themes (no cache)."""

from __future__ import annotations

from typing import Any

from subjectline.generate.backends import TitleBackend
from subjectline.generate.generate import generate_titles
from subjectline.generate.records import PromptSettings
from subjectline.themes import Theme

BENCH_THEMES: tuple[Theme, ...] = (
    Theme(
        "category:Sports > Running > Shoes",
        "category",
        "Running shoes",
        "Sports",
        0.8,
        ("Trail running shoe, waterproof", "Road running shoe 10mm drop", "Racing flats"),
        ("Stride", "Peakline"),
    ),
    Theme("brand:Northwind", "brand", "Northwind", "Fashion", 0.7, ("Northwind rain jacket",)),
    Theme(
        "category:Home > Kitchen > Knives",
        "category",
        "Kitchen knives",
        "Home",
        0.6,
        ("Chef knife 20cm", "Santoku knife", "Bread knife"),
    ),
    Theme("new_arrivals", "new_arrivals", "New arrivals", "Fashion", 0.5, ("Linen shirt",)),
    Theme(
        "attribute:color=green",
        "attribute",
        "Green",
        "Fashion",
        0.6,
        ("Green wool scarf", "Green canvas tote"),
        attributes={"color": "green"},
    ),
    Theme("price_band:under-25", "price_band", "Under 25", "Home", 0.5, ("Ceramic mug",)),
    Theme("mixed", "mixed", "Mixed picks", "Home", 0.3, ("Desk lamp", "Wool socks")),
    Theme(
        "category:Beauty > Skincare",
        "category",
        "Skincare",
        "Beauty",
        0.7,
        ("Hydrating face cream", "Vitamin C serum"),
    ),
)


def bench_themes(count: int) -> list[Theme]:
    """``count`` distinct themes (the fixed ones, then renamed copies)."""
    out = []
    for i in range(count):
        base = BENCH_THEMES[i % len(BENCH_THEMES)]
        suffix = f"#{i // len(BENCH_THEMES)}" if i >= len(BENCH_THEMES) else ""
        out.append(Theme(**{**base.__dict__, "key": base.key + suffix}))
    return out


def bench_generate(backend: TitleBackend, n_themes: int = 6, n: int = 8) -> dict[str, Any]:
    """Generate ``n`` candidates for ``n_themes`` themes; throughput and quality shares."""
    settings = PromptSettings(n_candidates=n)
    titles, stats = generate_titles(bench_themes(n_themes), backend, settings, None)
    outputs = stats.outputs_accepted + sum(stats.rejections.values())
    return {
        "backend": backend.name,
        "model": backend.model_id,
        "themes": n_themes,
        "candidates": stats.candidates,
        "llm_calls": stats.llm_calls,
        "seconds": stats.seconds,
        "titles_per_second": round(stats.candidates / stats.seconds, 3) if stats.seconds else None,
        "completion_tokens_per_second": round(stats.tokens / stats.seconds, 1)
        if stats.seconds
        else None,
        "share_clean_raw": round(stats.outputs_clean / outputs, 3) if outputs else None,
        "share_accepted": round(stats.outputs_accepted / outputs, 3) if outputs else None,
        "rejections": stats.rejections,
        "examples": {k: [c.text for c in v[:3]] for k, v in titles.items()},
    }
