"""The hook the campaign job calls: rank each theme's candidates (template included).

>>> ranked = rank_campaign(themes, candidates, items, theme_item_ids, lambdas)
>>> ranked["category:Sports"][0].title  # the best title; pass the scores to choose_safe

Safety stays the caller's job: feed ``[r.title for r in ranked[key]]`` and
``[r.score for r in ranked[key]]`` to ``subjectline.safety.choose_safe(..., ranking=...)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from subjectline.data.contract import Item
from subjectline.generate.template import template_title
from subjectline.score.objectives import ThemeContext
from subjectline.score.rerank import RankedTitle, lambda_for, rerank
from subjectline.score.text import vocabulary
from subjectline.themes.contract import Theme


def item_text(item: Item) -> str:
    """An item as the words a title may name: title, brand, category, attribute values."""
    return " ".join([item.title, item.brand or "", item.category, *item.attributes.values()])


def catalog_vocabulary(items: pl.DataFrame) -> frozenset[str]:
    """Stems of every title, brand and category word in the catalog (contract frame)."""
    return vocabulary(
        [*items["title"], *items["brand"].drop_nulls(), *items["category"].drop_nulls()]
    )


def theme_context(
    theme: Theme,
    theme_items: Sequence[Item],
    catalog_vocab: frozenset[str],
    recent_titles: Sequence[str] = (),
    char_budget: int = 60,
) -> ThemeContext:
    return ThemeContext(
        theme=theme,
        template=template_title(theme, char_budget),
        item_texts=tuple(item_text(i) for i in theme_items),
        catalog_vocab=catalog_vocab,
        recent_titles=tuple(recent_titles),
        items=tuple(theme_items),
    )


def rank_campaign(
    themes: Mapping[str, Theme],
    candidates: Mapping[str, Sequence[str]],
    items: pl.DataFrame,
    theme_item_ids: Mapping[str, Sequence[str]],
    lambdas: Mapping[str, float] | None = None,
    predicted_ctr: Mapping[str, Sequence[float]] | None = None,
) -> dict[str, list[RankedTitle]]:
    """Per theme key: its template and candidates ranked best first.

    ``theme_item_ids`` are each theme's representative items (e.g. the most shown);
    ``lambdas`` the per-root-category weights of ``subjectline tradeoff``;
    ``predicted_ctr`` optional engagement-model predictions aligned with
    ``[template, *candidates]`` (without it the engagement objective is neutral).
    """
    vocab = catalog_vocabulary(items)
    by_id = {row["item_id"]: row for row in items.iter_rows(named=True)}
    pools = {
        key: [template_title(theme), *candidates.get(key, ())] for key, theme in themes.items()
    }
    out: dict[str, list[RankedTitle]] = {}
    for key, theme in themes.items():
        titles = list(dict.fromkeys(pools[key]))
        theme_items = [Item.from_row(by_id[i]) for i in theme_item_ids.get(key, ()) if i in by_id]
        others = [t for k, pool in pools.items() if k != key for t in pool]
        ctr = None
        if predicted_ctr and key in predicted_ctr:
            ctr = np.asarray(predicted_ctr[key], dtype=np.float64)[: len(titles)]
        out[key] = rerank(
            titles,
            theme_context(theme, theme_items, vocab),
            lambda_for(theme.root_category, lambdas),
            ctr,
            None if ctr is None else float(ctr[0]),
            others,
        )
    return out
