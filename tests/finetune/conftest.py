"""A hand-made theme case, and the base model loaded once per session."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from subjectline.data.contract import Item
from subjectline.finetune.cases import ThemeCase
from subjectline.safety import CheckContext
from subjectline.score.choose import catalog_vocabulary, theme_context
from subjectline.themes import Theme

NOW = datetime(2026, 11, 1, tzinfo=UTC)
RUNNING = Theme(
    key="category:Sports > Running > Shoes",
    kind="category",
    label="Running shoes",
    root_category="Sports",
    coverage=0.8,
    example_titles=("Trail running shoe, waterproof", "Road running shoe 10mm drop"),
    brands=("Stride",),
)


def running_case() -> ThemeCase:
    import polars as pl

    items = [
        Item("i1", "Trail running shoe, waterproof", "Sports > Running > Shoes", "Stride", 89.0,
             "USD", True, datetime(2026, 9, 1, tzinfo=UTC)),
        Item("i2", "Road running shoe 10mm drop", "Sports > Running > Shoes", "Stride", 99.0,
             "USD", True, datetime(2026, 9, 5, tzinfo=UTC)),
    ]  # fmt: skip
    frame = pl.DataFrame(
        {
            "title": [i.title for i in items] + ["Cotton bath towel"],
            "brand": ["Stride", "Stride", "Loom"],
            "category": [i.category for i in items] + ["Home > Bath > Towels"],
        }
    )
    return ThemeCase(
        theme=RUNNING,
        source="synthetic",
        score_ctx=theme_context(RUNNING, items, catalog_vocabulary(frame)),
        check_ctx=CheckContext(
            items=items, theme=RUNNING, now=NOW, known_brands=("Loom", "Stride")
        ),
    )


@pytest.fixture(scope="session")
def base_model() -> tuple[Any, Any]:
    from subjectline.assets import smollm2_gguf
    from subjectline.finetune.train import load_base

    return load_base(smollm2_gguf())
