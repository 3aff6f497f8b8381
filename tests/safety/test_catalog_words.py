"""False positives found by reading shipped titles (issue 14, item 4): catalog product words
must pass the profanity and spam checks, and the verb "offers" is not a sale claim."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from subjectline.data import vocab
from subjectline.data.contract import Item, Promotion
from subjectline.safety import CheckContext, check_title, run_check
from subjectline.safety.lexical import find_profanity, find_spam

NOW = datetime(2025, 6, 12, 9, tzinfo=UTC)
PANTRY = "Grocery > Pantry"


def _catalog_words() -> list[str]:
    words: set[str] = set(vocab.ADJECTIVES)
    words.update(vocab.COLORS + vocab.MATERIALS + vocab.FLAVORS + vocab.SCENTS)
    for brands in vocab.ROOT_BRANDS.values():
        words.update(brands)
    for leaf in vocab.LEAVES:
        words.update(leaf.nouns)
        words.update(leaf.path.split(" > "))
        for values in leaf.attributes.values():
            words.update(values)
    return sorted(words)


def test_every_catalog_word_passes_profanity_and_spam() -> None:
    bad = []
    for word in _catalog_words():
        for text in (word, f"{word} picks for you", f"Classic {word}, Vanilla"):
            if find_profanity(text) or find_spam(text):
                bad.append(text)
    assert not bad


def test_every_synthetic_title_and_brand_passes_profanity_and_spam() -> None:
    for leaf in vocab.LEAVES:
        root = leaf.path.split(" > ")[0]
        for brand in vocab.ROOT_BRANDS[root]:
            for adjective in vocab.ADJECTIVES:
                for noun in leaf.nouns:
                    title = f"{brand} {adjective} {noun}"
                    assert not find_profanity(title) and not find_spam(title), title


@pytest.mark.parametrize("title", ["Nut Butter", "nut butter picks", "Nut-Butter for you"])
def test_nut_butter_is_a_product(title: str) -> None:
    assert find_profanity(title) == []


@pytest.mark.parametrize(
    "title",
    [
        "nutbutter",  # the joined word is the slang entry of the list
        "n u t b u t t e r",
        "n.u.t.b.u.t.t.e.r",
        "Nut Butt3r",  # leetspeak in the phrase is not the product's spelling
        "nut sack",
        "butthole",
        "fucknut",
    ],
)
def test_the_slang_is_still_caught(title: str) -> None:
    assert find_profanity(title)


def _item(iid: str, title: str, brand: str) -> Item:
    return Item(iid, title, PANTRY, brand, 9.99, "USD", True, NOW - timedelta(days=200))


ITEMS = [
    _item("g1", "Harvest Table Classic Nut Butter, Vanilla", "Harvest Table"),
    _item("g2", "Good Pantry Organic Pasta Sauce", "Good Pantry"),
]


def _promo() -> Promotion:
    return Promotion(
        "p", "category", PANTRY, 20.0, NOW - timedelta(days=2), NOW + timedelta(days=2)
    )


def test_nut_butter_title_passes_the_gate() -> None:
    ctx = CheckContext(items=ITEMS, now=NOW)
    assert check_title("Nut butter and pasta sauce for your pantry", ctx).ok


@pytest.mark.parametrize(
    "title",
    [
        "Harvest Table offers a range of products",
        "Good Pantry offers the pasta sauce you need",
        "Harvest Table offers an organic nut butter",
    ],
)
def test_offers_as_a_verb_is_not_a_sale_claim(title: str) -> None:
    assert run_check("grounding.sale", title, CheckContext(items=ITEMS, now=NOW)) is None


@pytest.mark.parametrize(
    "title",
    [
        "Special offers on nut butter",
        "Pantry offers for you",
        "An offer the whole pantry loves",
        "Offers a click away",  # the noun at the start, not "X offers a ..."
        "Great offers a click away",
        "Harvest Table offers a deal on nut butter",
        "Great offers",
    ],
)
def test_sale_claims_without_a_promotion_are_still_caught(title: str) -> None:
    ctx = CheckContext(items=ITEMS, now=NOW)
    assert run_check("grounding.sale", title, ctx) is not None
    with_promo = CheckContext(items=ITEMS, promotions=[_promo()], now=NOW)
    assert run_check("grounding.sale", title, with_promo) is None
