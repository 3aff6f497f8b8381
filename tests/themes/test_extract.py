from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import polars as pl

from subjectline.data.contract import SCHEMAS
from subjectline.themes.extract import MIXED_KEY, ThemeConfig, assign_themes

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def _items(rows: list[tuple[str, str, str, float, int, dict[str, str]]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            (i, f"{b} thing {i}", c, b, p, "USD", True, AS_OF - timedelta(days=age), json.dumps(a))
            for i, c, b, p, age, a in rows
        ],
        schema=SCHEMAS["items"],
        orient="row",
    )


def _recs(user: str, item_ids: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {"user_id": user, "item_id": item_ids, "rank": list(range(1, len(item_ids) + 1))}
    )


CATALOG = _items(
    [
        ("a", "Sports > Running > Shoes", "Stride", 90.0, 100, {"color": "Black"}),
        ("b", "Sports > Running > Shoes", "Peak", 120.0, 100, {"color": "Red"}),
        ("c", "Sports > Running > Shoes", "Stride", 80.0, 100, {"color": "Blue"}),
        ("d", "Sports > Running > Apparel", "Stride", 30.0, 100, {"color": "Black"}),
        ("e", "Home > Kitchen > Coffee", "Bean", 12.0, 3, {}),
        ("f", "Beauty > Lips", "Lune", 9.0, 2, {}),
        ("g", "Toys > Puzzles", "Fox", 300.0, 2, {}),
        ("h", "Books > Fiction", "Inkwell", 260.0, 400, {}),
        ("i", "Garden > Tools", "Root", 130.0, 400, {}),
    ]
)


def test_deepest_category_covering_most_items_and_theme_items_first() -> None:
    result = assign_themes(_recs("u1", ["h", "a", "b", "c"]), CATALOG, AS_OF)
    row = result.users.row(0, named=True)
    assert row["theme_key"] == "category:Sports > Running > Shoes"
    assert row["coverage"] == 0.75
    assert row["item_ids"] == ["a", "b", "c", "h"]  # theme items first, then the rest by rank
    theme = result.themes[row["theme_key"]]
    assert theme.kind == "category"
    assert theme.label == "Running Shoes"  # "Shoes" alone is generic: the parent names it
    assert theme.root_category == "Sports"


def test_a_parent_covering_all_beats_a_leaf_covering_most() -> None:
    result = assign_themes(_recs("u1", ["d", "a", "b", "c"]), CATALOG, AS_OF)
    assert result.users["theme_key"].item() == "category:Sports > Running"


def test_brand_wins_when_it_covers_more_than_any_category() -> None:
    result = assign_themes(_recs("u1", ["a", "c", "d", "e"]), CATALOG, AS_OF)
    assert result.users["theme_key"].item() == "brand:Stride"


def test_new_arrivals_and_nothing_shared_is_mixed() -> None:
    new = assign_themes(_recs("u1", ["e", "f", "g", "h"]), CATALOG, AS_OF)
    assert new.users["theme_key"].item() == "new_arrivals"
    mixed = assign_themes(_recs("u1", ["b", "g", "h", "i"]), CATALOG, AS_OF, ThemeConfig())
    assert mixed.users["theme_key"].item() == MIXED_KEY
    assert mixed.themes[MIXED_KEY].kind == "mixed"


def test_max_themes_moves_rare_themes_to_their_best_allowed_theme_or_mixed() -> None:
    recs = pl.concat(
        [
            _recs("u1", ["a", "b", "c", "h"]),  # Running Shoes, 3 of 4
            _recs("u2", ["a", "b", "c", "h"]),
            _recs("u3", ["e", "f", "g", "h"]),  # new arrivals, 3 of 4
            _recs("u4", ["d", "a", "b", "i"]),  # Running 3 of 4, Running Shoes 2 of 4
        ]
    )
    free = assign_themes(recs, CATALOG, AS_OF)
    assert free.users["theme_key"].to_list() == [
        "category:Sports > Running > Shoes",
        "category:Sports > Running > Shoes",
        "new_arrivals",
        "category:Sports > Running",
    ]
    capped = assign_themes(recs, CATALOG, AS_OF, ThemeConfig(max_themes=2))
    assert capped.users["theme_key"].to_list() == [
        "category:Sports > Running > Shoes",
        "category:Sports > Running > Shoes",
        MIXED_KEY,
        "category:Sports > Running > Shoes",
    ]
    assert set(capped.themes) == {"category:Sports > Running > Shoes", MIXED_KEY}
