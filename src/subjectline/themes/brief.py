"""A theme's grounded brief: the facts a subject line may state, extracted from its items.

Generation writes from the brief rather than from raw seller titles (Nextdoor's
extract-then-rewrite, CARTS's feature extraction): product kinds in the plural
("running shoes", "racing flats"), the leading brands, standout colours or materials,
and the price band. Every phrase is copied from the items' own words, so a title built
from them states nothing the catalog does not; the safety gate still checks the result,
because the words come from sellers.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from subjectline.themes.contract import Theme

# Marketing adjectives that sellers put in front of the product noun; they are claims or
# noise ("Premium", "Eco"), never part of the product kind.
SELLER_ADJECTIVES = frozenset(
    [
        "classic",
        "essential",
        "everyday",
        "lightweight",
        "premium",
        "compact",
        "organic",
        "ultra",
        "pro",
        "heritage",
        "modern",
        "soft",
        "eco",
        "signature",
        "original",
        "new",
        "best",
        "deluxe",
        "luxury",
        "elite",
        "advanced",
        "smart-choice",
        "authentic",
        "genuine",
        "official",
        "limited",
        "exclusive",
        "special",
        "super",
        "mega",
        "top",
    ]
)
# Words kept capitalised inside a product kind.
_PROPER = frozenset({"french", "dutch", "chelsea", "oxford", "bluetooth", "bundt"})
_WORD = re.compile(r"^[A-Za-z][A-Za-z'’-]*$|^\d+(?:-[A-Za-z]+)+$")
_SPLIT = re.compile(r"\s*(?:,|\(|\||\s-\s|\s–\s|:|;|/)\s*")
MAX_KIND_WORDS = 3
MAX_KIND_CHARS = 24
# Catalog roots whose items' titles are names (films, books), not kinds: the kind is
# the root's noun, qualified by the theme's label ("comedy films").
ROOT_KINDS = {"movies": "films", "films": "films", "books": "books", "music": "albums"}
COLOR_WORDS = frozenset(
    [
        "black",
        "white",
        "navy",
        "red",
        "olive",
        "grey",
        "gray",
        "beige",
        "blue",
        "pink",
        "green",
        "nude",
        "berry",
        "coral",
        "brown",
        "tan",
        "cream",
        "ivory",
        "yellow",
        "orange",
        "purple",
        "teal",
        "charcoal",
        "silver",
        "gold",
    ]
)


@dataclass(frozen=True)
class ThemeBrief:
    """What every phrase of a grounded title may be made of.

    ``kinds`` are plural, lower-case product kinds, most common first; ``brands`` the
    theme's leading brands; ``colors`` / ``materials`` standout attribute values;
    ``price_band`` the band's label for a price-band theme ("under $50").
    """

    label: str
    kind: str
    kinds: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    colors: tuple[str, ...] = ()
    materials: tuple[str, ...] = ()
    price_band: str | None = None
    occasion_words: frozenset[str] = field(default_factory=frozenset)

    @property
    def has_facts(self) -> bool:
        return bool(self.kinds or self.brands)


# Mass nouns: "whole bean coffee", never "coffees".
UNCOUNTABLE = frozenset(
    [
        "coffee",
        "tea",
        "honey",
        "gear",
        "clothing",
        "apparel",
        "cookware",
        "bedding",
        "luggage",
        "furniture",
        "equipment",
        "jewelry",
        "jewellery",
        "water",
        "granola",
        "skincare",
        "makeup",
        "rice",
        "flour",
        "oil",
        "sauce",
        "butter",
        "mix",
        "lighting",
        "decor",
    ]
)


def pluralize(word: str) -> str:
    """English plural of a product noun's last word (``knife`` -> ``knives``)."""
    lower = word.lower()
    if lower in UNCOUNTABLE:
        return word
    if lower.endswith(("ss", "sh", "ch", "x", "z")):
        return word + "es"
    if lower.endswith("s"):
        return word  # already plural ("jeans", "leggings")
    if lower.endswith("y") and len(lower) > 1 and lower[-2] not in "aeiou":
        return word[:-1] + "ies"
    if lower.endswith("fe"):
        return word[:-2] + "ves"
    if lower.endswith("f") and not lower.endswith(("ff", "oof")):
        return word[:-1] + "ves"
    return word + "s"


def _case(word: str) -> str:
    if word.lower() in _PROPER or any(ch.isdigit() for ch in word):
        return word
    if word.isupper() and len(word) > 1:
        return word  # an acronym ("USB-C")
    return word.lower()


def product_kind(title: str, brands: tuple[str, ...] = ()) -> str | None:
    """The plural product kind of one item title, or None when it does not read as one.

    ``"Corepulse Premium Trail Running Shoe, Red"`` -> ``"trail running shoes"``.
    A title whose head is longer than a product kind, or holds words that are not plain
    words (``iPhoneSelling``, URLs, numbers), gives None.
    """
    head = _SPLIT.split(title.strip(), maxsplit=1)[0].strip()
    for brand in sorted(brands, key=len, reverse=True):
        if brand and head.lower().startswith(brand.lower() + " "):
            head = head[len(brand) :].strip()
            break
    found = head.split()
    while found and found[0].lower() in SELLER_ADJECTIVES:
        found = found[1:]
    if not found or len(found) > MAX_KIND_WORDS:
        return None
    if not all(_WORD.match(w) for w in found):
        return None
    # Internal capitals mark glued words or product names, not a kind ("iPhoneSelling").
    if any(any(ch.isupper() for ch in w[1:]) and not w.isupper() for w in found):
        return None
    cased = [_case(w) for w in found]
    cased[-1] = pluralize(cased[-1])
    kind = " ".join(cased)
    return kind if len(kind) <= MAX_KIND_CHARS else None


def _suffix_values(title: str) -> list[str]:
    parts = [p.strip() for p in title.split(",")[1:]]
    return [p for p in parts if p and len(p.split()) <= 2]


def natural_label(theme: Theme) -> str:
    """The theme's label as a marketer writes it ("Coffee", not "Coffee & Tea Coffee")."""
    label = " ".join(theme.label.split())
    if theme.kind == "category":
        words = label.split()
        # "<parent> <leaf>" whose parent already holds the leaf: the leaf alone.
        if len(words) > 1 and words[-1].lower() in {w.lower() for w in words[:-1]}:
            return words[-1]
    return label


def theme_brief(theme: Theme, max_kinds: int = 3, max_brands: int = 2) -> ThemeBrief:
    """The grounded brief of ``theme``, from its representative items' titles and brands.

    Kinds need a plural that reads as one ("whole bean coffee" stays singular: a mass
    noun). A kind is kept when at least two titles give it, or its last word appears in the
    theme's label (a category's own noun): one title alone may be a product's name
    ("Toy Story"), not a kind. A broad category or brand with no such kind lists the
    kinds its titles give once each.
    """
    label = natural_label(theme)
    brands = tuple(dict.fromkeys(b.strip() for b in theme.brands if b and b.strip()))
    counts: Counter[str] = Counter()
    colors_of: dict[str | None, Counter[str]] = {}
    for title in theme.example_titles:
        kind = product_kind(title, brands)
        if kind:
            counts[kind] += 1
        for value in _suffix_values(title):
            if value.lower() in COLOR_WORDS:
                colors_of.setdefault(kind, Counter())[value] += 1
    label_words = {w.lower().rstrip("s") for w in re.findall(r"[A-Za-z]+", label)}
    kinds = [
        k
        for k, n in counts.most_common()
        if n >= 2 or k.split()[-1].lower().rstrip("s") in label_words
    ]
    if not kinds and theme.kind in ("category", "brand") and len(counts) >= 2:
        # A broad theme ("Electronics") holds many kinds, each once: its leading kinds
        # together say what it holds, as a list, not one of them as a product's name.
        kinds = [k for k, _ in counts.most_common()]
    if theme.every_email_kinds is not None:
        # A subject goes to every email of the theme: it names only what they all hold.
        kinds = [k for k in kinds if k in theme.every_email_kinds]
        kinds += [k for k in theme.every_email_kinds if k not in kinds]
    if theme.every_email_brands is not None and theme.kind != "brand":
        brands = tuple(b for b in theme.every_email_brands if b in brands)
    root_kind = ROOT_KINDS.get(theme.root_category.lower())
    if root_kind and theme.kind == "category":
        own = label.lower()
        kinds = [
            root_kind if own in (theme.root_category.lower(), root_kind) else f"{own} {root_kind}"
        ]
    attrs = theme.attributes
    # Colours are said of the first kind, so only that kind's items give them; an
    # attribute theme's value holds for every item.
    colors = colors_of.get(kinds[0], Counter()) if kinds else Counter()
    if theme.every_email_kinds is not None:
        colors = Counter()  # a colour of some items, not of every email's
    if attrs.get("color"):
        colors = Counter({attrs["color"]: 1})
    materials = tuple(v for n, v in sorted(attrs.items()) if n == "material")
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", " ".join([label, *kinds]))}
    if theme.kind == "category" and " > " not in theme.key and not kinds:
        # A department ("Home & Kitchen") holds bedding as well as pans: no one occasion.
        words = set()
    # A leaf category named in the plural is itself a kind: "Board games from X", not
    # "Board Games picks"; a root ("Sports", "Electronics") is a department.
    last = label.split()[-1].lower() if label else ""
    label_kind = (
        " ".join(_case(w) for w in label.split())
        if theme.kind == "category"
        and " > " in theme.key
        and last.endswith("s")
        and not last.endswith("ss")
        and last not in UNCOUNTABLE
        else None
    )
    if not kinds and label_kind:
        kinds = [label_kind]
    return ThemeBrief(
        label=label,
        kind=theme.kind,
        kinds=tuple(kinds[:max_kinds]),
        brands=brands[:max_brands] if theme.kind != "brand" else brands[:1],
        colors=tuple(c for c, _ in colors.most_common(3)),
        materials=materials,
        price_band=label if theme.kind == "price_band" else None,
        occasion_words=frozenset(words),
    )
