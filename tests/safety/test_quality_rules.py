"""The quality family's exact rules: each rubric reason, and titles they must let pass."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from subjectline.data.contract import Item
from subjectline.safety import CheckContext, run_check
from subjectline.themes import Theme

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _item(title: str, category: str, brand: str, **attrs: str) -> Item:
    return Item(
        "i1", title, category, brand, 50.0, "USD", True, datetime(2025, 1, 1, tzinfo=UTC), attrs
    )


BOOTS = CheckContext(
    items=(
        _item("Fjord Classic Chelsea Boots, Black", "Fashion > Shoes > Boots", "Fjord"),
        _item("Maison Lark Hiking Boots, Grey", "Fashion > Shoes > Boots", "Maison Lark"),
    ),
    theme=Theme("category:Fashion > Shoes > Boots", "category", "Boots", "Fashion"),
    now=NOW,
)
DRESSES = CheckContext(
    items=(
        _item("Urban Thread Shirt Dress, Blue", "Fashion > Women > Dresses", "Urban Thread"),
        _item("Urban Thread Maxi Dress, Olive", "Fashion > Women > Dresses", "Urban Thread"),
    ),
    theme=Theme("category:Fashion > Women > Dresses", "category", "Dresses", "Fashion"),
    now=NOW,
)


@pytest.mark.parametrize(
    ("check", "title"),
    [
        ("quality.tautology", "Boots for your boots"),
        ("quality.tautology", "Boots for your hiking boots, today"),
        ("quality.garbled", "Boots boots for a walk"),
        ("quality.garbled", "Boots and boots from Fjord"),
        ("quality.unfinished", "Chelsea boots from Fjord for your daily"),
        ("quality.unfinished", "Fjord has new boots that's perfect"),
        ("quality.unfinished", "Fjord offers a new variety of boots, like"),
        ("quality.voice", "Boots that I picked for you"),
        ("quality.voice", "Hiking boots lol"),
        ("quality.claim", "Fjord boots, the best in the world"),
        ("quality.claim", "Eco-friendly boots from Fjord"),
        ("quality.claim", "Luxury boots for you"),
        ("quality.off_theme", "Boots for your next fashion project with a lamp"),
        ("quality.off_theme", "Chelsea boots for your morning swim"),
        ("quality.off_theme", "Fjord boots to cook dinner"),
        ("quality.garbled", "Fjord's new Fjord Chelsea Boots"),
        ("quality.garbled", "Fj ord boots, Fjord"),
        ("quality.off_theme", "Chelsea boots for your morning cup"),
        ("quality.off_theme", "Fjord boots for a sweet treat"),
        ("quality.off_theme", "Boots from your favorite boutique"),
        ("quality.off_theme", "Fjord boots and a warm coat"),
        ("quality.incoherent", "Boots for your morning pick-up"),
        ("quality.incoherent", "Hiking boots for your weekend pick"),
        ("quality.incoherent", "Chelsea boots for your daily pickups"),
        ("quality.incoherent", "Fjord boots for your next day's specials"),
        ("quality.incoherent", "Boots for your pick from all the above brands"),
        ("quality.incoherent", "Become a boots lover with Fjord"),
        ("quality.claim", "Fjord boots, eco friendly and warm"),
        ("quality.garbled", "Chelsea boots for your daily commute, Black."),
        ("quality.garbled", "Hiking boots for the trail, Grey and Black"),
    ],
)
def test_rule_rejects_with_its_reason(check: str, title: str) -> None:
    reason = run_check(check, title, BOOTS)
    assert reason is not None and reason.check == check and reason.detail


@pytest.mark.parametrize(
    ("title", "ctx"),
    [
        ("Chelsea boots and hiking boots from Fjord", BOOTS),
        ("Boots for your next adventure", BOOTS),
        ("Fjord boots, picked for you", BOOTS),
        ("Fjord boots you might like", BOOTS),
        ("Shirt dresses and maxi dresses from Urban Thread", DRESSES),
        ("Pretty in pink: picks chosen for you", DRESSES),
        ("Hiking boots for the trail and your next trip", BOOTS),
        ("Boots for the weekend", BOOTS),
        ("Shirt dresses for the office, maxi dresses for a party", DRESSES),
        ("Fjord boots, our picks of the season", BOOTS),
        ("Boots for you to choose from", BOOTS),
        ("Chelsea boots from Fjord, now 20% off", BOOTS),
        ("Chelsea boots in black, grey and olive", BOOTS),
        ("Hiking boots in grey, black", BOOTS),
        ("Become a better hiker in Fjord boots", BOOTS),
    ],
)
def test_sendable_titles_pass_every_rule(title: str, ctx: CheckContext) -> None:
    for check in (
        "tautology",
        "garbled",
        "incoherent",
        "unfinished",
        "voice",
        "claim",
        "off_theme",
    ):
        assert run_check(f"quality.{check}", title, ctx) is None, check


def test_home_repeated_alone_is_garbled_but_home_decor_for_your_home_is_not() -> None:
    kitchen = CheckContext(
        items=(_item("Linden Home Eco Skillet", "Home & Kitchen > Kitchen", "Linden Home"),),
        theme=Theme("category:Home & Kitchen", "category", "Home & Kitchen", "Home & Kitchen"),
        now=NOW,
    )
    reason = run_check("quality.garbled", "Home and home & kitchen", kitchen)
    assert reason is not None and "home" in reason.detail
    assert run_check("quality.garbled", "Kitchen picks for your home", kitchen) is None


def _priced(price: float) -> CheckContext:
    lip = Item("l1", "Lune Lip Balm", "Beauty > Makeup > Lips", "Lune", price, "USD", True, NOW, {})
    return CheckContext(items=(lip,), now=NOW)


@pytest.mark.parametrize("title", ["Affordable picks for you", "Budget-friendly lip balm"])
def test_a_price_claim_is_stated_only_when_every_item_is_cheap(title: str) -> None:
    assert run_check("quality.claim", title, _priced(8.0)) is None
    reason = run_check("quality.claim", title, _priced(80.0))
    assert reason is not None and reason.check == "quality.claim"


STRENGTH = CheckContext(
    items=(
        _item("Corepulse Resistance Bands", "Sports > Fitness > Strength", "Corepulse"),
        _item("Velora Soft Kettlebell", "Sports > Fitness > Strength", "Velora"),
    ),
    theme=Theme("category:Sports > Fitness > Strength", "category", "Strength", "Sports"),
    now=NOW,
)


@pytest.mark.parametrize(
    ("title", "rejected"),
    [
        ("Strength for you!", True),
        ("Strength for your daily routine", True),
        ("Strength, new arrivals", True),
        ("Strength", True),
        ("Strength picks for home workouts", False),
        ("Kettlebells and resistance bands for your workouts", False),
    ],
)
def test_a_field_sold_as_a_product_is_incoherent(title: str, rejected: bool) -> None:
    reason = run_check("quality.incoherent", title, STRENGTH)
    assert (reason is not None) is rejected
    if reason is not None:
        assert "'Strength' is a field" in reason.detail


def test_a_purpose_fits_when_any_of_its_activities_does() -> None:
    assert (
        run_check("quality.off_theme", "Resistance bands for your workout adventures", STRENGTH)
        is None
    )
    reason = run_check("quality.off_theme", "Resistance bands for your walk or ride", STRENGTH)
    assert reason is not None and "'ride'" in reason.detail


def test_a_word_that_names_an_occasion_is_no_repeat_and_to_choose_from_is_finished() -> None:
    tea = CheckContext(
        items=(
            _item("Brookside Herbal Tea, Vanilla", "Grocery > Coffee & Tea > Tea", "Brookside"),
        ),
        theme=Theme("category:Grocery > Coffee & Tea > Tea", "category", "Tea", "Grocery"),
        now=NOW,
    )
    assert run_check("quality.garbled", "Teas for a tea party", tea) is None
    assert run_check("quality.garbled", "Tea and tea for you", tea) is not None
    assert run_check("form.truncated", "Teas for you to choose from", tea) is None
    assert run_check("form.truncated", "Teas for you from", tea) is not None


def test_a_compound_word_again_in_the_purpose_is_no_garble() -> None:
    lights = CheckContext(
        items=(_item("Voltix Smart Bulb", "Electronics > Smart Home > Lighting", "Voltix"),),
        theme=Theme(
            "category:Electronics > Smart Home > Lighting",
            "category",
            "Smart Home Lighting",
            "Electronics",
        ),
        now=NOW,
    )
    assert run_check("quality.garbled", "Smart home lighting for your home", lights) is None
    assert run_check("quality.garbled", "Home and home & lighting", lights) is not None
    assert run_check("quality.garbled", "Voltix lights for you, Voltix!", lights) is not None


def test_movielens_words_meet_their_singular_and_a_night_in_is_finished() -> None:
    from subjectline.safety.text import stem_keys

    assert "movie" in stem_keys("movies") and "cookie" in stem_keys("cookies")
    assert "berry" in stem_keys("berries")
    movies = CheckContext(
        items=(_item("Fargo", "Movies > Crime", ""), _item("Toy Story", "Movies > Animation", "")),
        theme=Theme("category:Movies", "category", "Movies", "Movies"),
        now=NOW,
    )
    assert run_check("grounding.theme", "Movie picks for your weekend", movies) is None
    assert run_check("form.truncated", "Comedies for a night in", movies) is None
    assert run_check("form.truncated", "Comedies for a night with", movies) is not None
