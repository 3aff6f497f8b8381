"""Choose each theme's subject for each arm, checked so that it holds for every email.

Titles are chosen once per theme, so a title must be safe for *every* email of the
theme, not just for the theme on average. Each candidate is checked twice:

- against the theme's **guaranteed facts**: one record holding only what every email
  of the theme is sure to contain (its category for a category theme, its brand for a
  brand theme, a new item for "new arrivals", an item in the band for a price band, and
  the promotions that apply to such an item). A title that names a brand, a product, a
  discount or a date passes only if that fact is guaranteed;
- against **every item recommended** to the theme's users, so that text copied from any
  seller's item (injection) is caught whichever email it would have landed in.

A title that passes both passes for each single email (the facts it needs are in every
email, and no email holds text the wide check did not see). The chain then falls back
to the theme's safe templates, then to a generic one, as ``choose_safe`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from subjectline.data.contract import Item, Promotion
from subjectline.safety import CheckContext, Rejection, SafeChoice, check_title, choose_safe
from subjectline.safety.audit import rejections_from_choice
from subjectline.themes.contract import Theme
from subjectline.themes.extract import PRICE_BANDS

_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)
_NO_PRICE = 1e9  # no price claim can be grounded on it


def guaranteed_item(theme: Theme, as_of: datetime) -> Item | None:
    """A record of the facts every email of ``theme`` is sure to hold (None for mixed)."""
    if theme.kind == "mixed":
        return None
    category = ""
    brand = None
    price = _NO_PRICE
    added_at = _LONG_AGO
    if theme.kind == "category":
        category = theme.key.removeprefix("category:")
    elif theme.kind == "brand":
        brand = theme.key.removeprefix("brand:")
    elif theme.kind == "new_arrivals":
        added_at = as_of
    elif theme.kind == "price_band":
        slug = theme.key.removeprefix("price_band:")
        price = next(bound for bound, s, _ in PRICE_BANDS if s == slug) - 0.01
    return Item(
        item_id=f"theme:{theme.key}",
        title=theme.label,
        category=category,
        brand=brand,
        price=price,
        currency="USD",
        in_stock=True,
        added_at=added_at,
        attributes=dict(theme.attributes),
    )


def every_email_items(theme: Theme) -> tuple[Item, ...]:
    """Records of the kinds and brands every email of ``theme`` holds: they ground a
    title's words, never a price, a date or a stock claim."""
    kinds = theme.every_email_kinds or ()
    brands = theme.every_email_brands or ()
    return tuple(
        Item(
            item_id=f"theme:{theme.key}:{fact}:{value}",
            title=value,
            category="",
            brand=value if fact == "brand" else None,
            price=_NO_PRICE,
            currency="USD",
            in_stock=True,
            added_at=_LONG_AGO,
            attributes={},
        )
        for fact, values in (("kind", kinds), ("brand", brands))
        for value in values
    )


@dataclass
class ThemeContexts:
    """The two contexts a theme's titles are checked against."""

    guaranteed: CheckContext
    wide: CheckContext


def theme_contexts(
    theme: Theme,
    theme_items: Sequence[Item],
    promotions: Sequence[Promotion],
    as_of: datetime,
    known_brands: Sequence[str],
    catalog_words: frozenset[str],
    char_budget: int,
) -> ThemeContexts:
    base = CheckContext(
        promotions=tuple(promotions),
        theme=theme,
        now=as_of,
        char_budget=char_budget,
        known_brands=tuple(known_brands),
        catalog_words=catalog_words,
    )
    anchor = guaranteed_item(theme, as_of)
    guaranteed = (anchor, *every_email_items(theme)) if anchor else ()
    return ThemeContexts(
        guaranteed=replace(base, items=guaranteed),
        wide=replace(base, items=tuple(theme_items)),
    )


@dataclass
class ArmChoice:
    text: str
    source: str  # candidate | theme_template | generic_template
    rejections: list[Rejection] = field(default_factory=list)


def choose_for_every_email(
    candidates: Sequence[str],
    contexts: ThemeContexts,
    ranking: Sequence[float] | None = None,
    fallbacks: Sequence[str] = (),
) -> ArmChoice:
    """The best candidate that passes both contexts, else the safe fallback chain."""
    theme_key = contexts.guaranteed.theme.key if contexts.guaranteed.theme else ""
    rejections: list[Rejection] = []
    kept: list[str] = []
    kept_rank: list[float] = []
    for i, text in enumerate(candidates):
        wide = check_title(text, contexts.wide)
        if wide.ok:
            kept.append(text)
            kept_rank.append(ranking[i] if ranking is not None else -i)
        else:
            rejections += [Rejection(text, theme_key, r.check, r.detail) for r in wide.reasons]
    usable_fallbacks = [t for t in fallbacks if check_title(t, contexts.wide).ok]
    choice: SafeChoice = choose_safe(kept, contexts.guaranteed, usable_fallbacks, kept_rank)
    rejections += rejections_from_choice(choice, theme_key)
    return ArmChoice(choice.text, choice.source, rejections)
