"""The grounded prompt's menu: each candidate's style and the phrasings it may take."""

from __future__ import annotations

from subjectline.generate.grounded import NO_FACTS_CHOICES, menu, occasions
from subjectline.generate.prompts import build_prompt
from subjectline.generate.records import PromptSettings
from subjectline.themes.brief import theme_brief
from subjectline.themes.contract import Theme

CANDLES = (
    "Lune Scented Candle, Rose",
    "Lune Classic Scented Candle, Lavender",
    "Lune Face Cream, Sandalwood",
)
SNACKS = ("Good Pantry Trail Mix, Berry", "Harvest Table Trail Mix", "Good Pantry Nut Butter")
GADGETS = (
    "Nimbus Sport Earbuds, Beige",
    "Nimbus Smart Speaker",
    "Lumio 2-in-1 Laptop",
    "Auralis Screen Protector",
)


BRANDS = (
    "Lune",
    "Good Pantry",
    "Harvest Table",
    "Nimbus",
    "Lumio",
    "Auralis",
    "Nestwell",
    "Linden Home",
)


def _theme(kind: str, label: str, titles: tuple[str, ...], root: str) -> Theme:
    brands = tuple(b for b in BRANDS if any(t.startswith(b) for t in titles))
    return Theme(f"{kind}:{label}", kind, label, root, brands=brands, example_titles=titles)


def test_the_candidates_of_a_theme_may_not_write_the_same_title() -> None:
    theme = _theme("brand", "Lune", CANDLES, "Beauty")
    settings = PromptSettings(prompt_version="v2")
    n = len(menu(theme_brief(theme), settings.char_budget))
    assert n >= 6
    shares = [set(build_prompt(theme, settings, i).spec.choices) for i in range(n)]
    for i, share in enumerate(shares):
        assert share
        for other in shares[i + 1 :]:
            assert not share & other


def test_an_occasion_fits_the_product_it_is_said_of() -> None:
    brief = theme_brief(_theme("category", "Pantry", SNACKS, "Grocery"))
    assert brief.kinds[0] == "trail mix"
    assert not {"your next run", "race day"} & set(occasions(brief))
    sheets = ("Nestwell Sheet Set, Grey", "Linden Home Sheet Set", "Nestwell Sheet Set")
    bedding = theme_brief(_theme("category", "Sheets", sheets, "Home & Kitchen"))
    assert "young builders" not in occasions(bedding)


def test_a_broad_category_lists_its_kinds() -> None:
    brief = theme_brief(_theme("category", "Electronics", GADGETS, "Electronics"))
    assert len(brief.kinds) >= 2
    slots = menu(brief, 60)
    assert all(options != NO_FACTS_CHOICES for _, options in slots)
    assert any("earbuds" in phrase for _, options in slots for phrase in options)


def test_a_plural_leaf_label_is_a_kind_and_a_root_label_a_department() -> None:
    games = Theme(
        "category:Toys & Games > Board Games",
        "category",
        "Board Games",
        "Toys & Games",
        every_email_kinds=(),
    )
    phrases = [p for _, options in menu(theme_brief(games), 60) for p in options]
    assert "Board games you might like" in phrases
    assert not any("Board Games picks" in p for p in phrases)
    sports = Theme("category:Sports", "category", "Sports", "Sports", every_email_kinds=())
    assert "Sports picks you might like" in [
        p for _, options in menu(theme_brief(sports), 60) for p in options
    ]


def test_a_theme_is_asked_no_more_candidates_than_its_menu_has_shares() -> None:
    from subjectline.generate.prompts import candidate_count

    theme = Theme("category:Sports", "category", "Sports", "Sports", every_email_kinds=())
    settings = PromptSettings(prompt_version="v2", n_candidates=8)
    assert candidate_count(theme, settings) == len(menu(theme_brief(theme), 60)) < 8
    assert candidate_count(theme, PromptSettings(prompt_version="v1", n_candidates=8)) == 8


def test_a_department_without_kinds_gets_no_occasion() -> None:
    home = Theme("category:Home & Kitchen", "category", "Home & Kitchen", "Home & Kitchen")
    phrases = [p for _, options in menu(theme_brief(home), 60) for p in options]
    assert phrases and not any("dinners" in p or "cooking" in p for p in phrases)
