"""Checks that need the catalog: kinds of product and made-up names."""

from __future__ import annotations

from datetime import UTC, datetime

from subjectline.data.contract import Item
from subjectline.safety import CheckContext, category_words, check_title
from subjectline.themes.contract import Theme

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
BEAUTY = Theme("category:Beauty", "category", "Beauty", "Beauty", brands=("Dermaleaf",))
CREAM = Item(
    "i1",
    "Dermaleaf Night Cream",
    "Beauty > Skincare > Moisturizers",
    "Dermaleaf",
    20.0,
    "USD",
    True,
    AS_OF,
)
KINDS = category_words(["Beauty > Skincare > Moisturizers", "Sports > Fitness > Yoga"])


def _checks(title: str) -> set[str]:
    ctx = CheckContext(
        items=[CREAM], theme=BEAUTY, now=AS_OF, known_brands=("Dermaleaf",), catalog_words=KINDS
    )
    return {r.check for r in check_title(title, ctx).reasons}


def test_category_words_are_the_catalogs_kinds_of_product() -> None:
    assert {"skincare", "moisturizers", "yoga", "fitness"} <= KINDS
    assert "top" not in KINDS


def test_a_kind_of_product_the_email_lacks_is_refused() -> None:
    assert "grounding.category" in _checks("Yoga essentials for your glow")
    assert "grounding.category" not in _checks("Skincare for your nightly glow")


def test_a_made_up_or_misspelled_name_is_refused() -> None:
    assert "grounding.name" in _checks("Become a beauty lover with Dermaleabrite")
    assert "grounding.name" not in _checks("Night cream picks from Dermaleaf")
