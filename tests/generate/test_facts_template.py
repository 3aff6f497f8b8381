"""The facts-filled control: fixed patterns filled from the theme's grounded brief."""

from __future__ import annotations

from subjectline.generate.template import (
    FACTS_TEMPLATES,
    facts_template_title,
    facts_template_titles,
    template_titles,
)
from subjectline.themes.contract import Theme

SHOES = (
    "Corepulse Running Shoe, Red",
    "Corepulse Premium Running Shoe, Blue",
    "Corepulse Racing Flat",
    "Corepulse Racing Flat, Black",
)
COOKWARE = (
    "Hearthly Skillet",
    "Copperpot Skillet, Black",
    "Hearthly Dutch Oven, Red",
    "Copperpot Dutch Oven",
)


BRANDS = ("Corepulse", "Hearthly", "Copperpot")


def _theme(kind: str, key: str, label: str, titles: tuple[str, ...], **kw: object) -> Theme:
    kw.setdefault("brands", BRANDS)
    return Theme(key, kind, label, "Sports", example_titles=titles, **kw)  # type: ignore[arg-type]


def test_a_brand_theme_names_its_brand_and_its_kinds() -> None:
    theme = _theme("brand", "brand:Corepulse", "Corepulse", SHOES, brands=("Corepulse",))
    titles = facts_template_titles(theme)
    assert titles[0] == "Corepulse running shoes and racing flats, picked for you"
    assert "Corepulse running shoes and more, picked for you" in titles
    assert facts_template_title(theme) == titles[0]


def test_a_category_theme_names_two_kinds_first_letter_capitalised() -> None:
    theme = _theme(
        "category",
        "category:Home & Kitchen > Kitchen > Cookware",
        "Cookware",
        COOKWARE,
        brands=("Hearthly", "Copperpot"),
    )
    titles = facts_template_titles(theme)
    # Kinds keep their proper nouns ("Dutch"); brands of a category theme are left out.
    assert titles[0] == "Skillets and Dutch ovens, picked for you"
    assert all("Hearthly" not in t and "Copperpot" not in t for t in titles)
    assert "Cookware: skillets and more" in titles


def test_attribute_price_band_and_new_arrival_patterns() -> None:
    blue = _theme(
        "attribute", "attribute:color=Blue", "Blue", COOKWARE, attributes={"color": "Blue"}
    )
    assert facts_template_titles(blue)[0] == "Skillets and Dutch ovens in blue"
    cheap = _theme("price_band", "price_band:under-50", "under $50", COOKWARE)
    assert facts_template_titles(cheap)[0] == "Skillets and Dutch ovens under $50"
    new = _theme("new_arrivals", "new_arrivals", "New arrivals", COOKWARE)
    assert facts_template_titles(new)[0] == "New arrivals: skillets and Dutch ovens"


def test_without_facts_the_classic_templates_are_returned() -> None:
    # One title alone does not make a kind; a mixed theme has no pattern at all.
    plain = _theme("category", "category:Sports", "Sports", ("Toy Story",))
    assert facts_template_titles(plain) == template_titles(plain)
    mixed = Theme("mixed", "mixed", "Picks for you", "All", example_titles=COOKWARE)
    assert facts_template_titles(mixed) == template_titles(mixed)
    assert "mixed" not in FACTS_TEMPLATES


def test_over_the_budget_a_shorter_pattern_is_used() -> None:
    theme = _theme("brand", "brand:Corepulse", "Corepulse", SHOES, brands=("Corepulse",))
    titles = facts_template_titles(theme, char_budget=45)
    assert titles[0] == "Corepulse running shoes and more"
    assert all(len(t) <= 45 for t in titles)
    # Nothing fits: the classic templates (which fall back to the generic one).
    tiny = facts_template_titles(theme, char_budget=22)
    assert tiny == template_titles(theme, char_budget=22)


def test_a_brand_in_every_email_of_a_category_is_named() -> None:
    theme = _theme(
        "category",
        "category:Beauty",
        "Beauty",
        ("Dermaleaf Night Cream", "Lune Lip Balm"),
        brands=("Dermaleaf", "Lune"),
        every_email_kinds=(),
        every_email_brands=("Dermaleaf",),
    )
    assert "Beauty picks from Dermaleaf and more" in facts_template_titles(theme)
