"""Grounded titles: the phrasings a candidate may take, composed from the theme's brief.

Following Nextdoor (extract, then rewrite) and CARTS (copy extracted item facts), the
facts of a title (product kinds, brands, colours, the price band) are copied verbatim
from the brief, and only the way they are put together is the model's choice. For each
candidate a *style* (product list, occasion, brand-led, attribute, price, new in) is
picked, and the style's phrasings become the alternatives of a grammar; a backend
that takes no grammar gets the same brief in its prompt and the gate judges what it
writes. Occasions come from a small hand-written table keyed by the theme's own words,
so "for your next ride" is offered for cycling gear, never for lamps.
"""

from __future__ import annotations

from itertools import product

from subjectline.generate.records import FIRST_NAME_TOKEN
from subjectline.themes.brief import ThemeBrief

STYLES = ("list", "occasion", "brand", "attribute", "price", "new")
# Theme words -> occasions that fit items of that kind. No occasion repeats the word
# that selects it ("coffee" never gets "your morning coffee"): that is a tautology.
OCCASIONS: tuple[tuple[frozenset[str], tuple[str, ...]], ...] = tuple(
    (frozenset(keys.split()), occasions)
    for keys, occasions in (
        ("running run racing", ("your next run", "race day", "your training")),
        ("yoga", ("your practice", "a calm morning stretch")),
        ("fitness strength dumbbell dumbbells kettlebells kettlebell", ("home workouts",)),
        ("cycling bike helmets gloves", ("your next ride", "the daily ride")),
        ("camping tent tents stoves headlamps sleeping", ("your next camping trip",)),
        ("hiking", ("the trail",)),
        ("coffee espresso kettles grinders presses", ("slow mornings", "your morning routine")),
        ("tea teas chai", ("slow afternoons", "a quiet afternoon")),
        ("cookware skillets saucepan ovens knives kitchen", ("weeknight dinners", "home cooking")),
        ("sheets bedding duvet pillowcases blankets", ("your bedroom", "cosy nights in")),
        ("lamps lights lighting pendant", ("your living room", "cosy evenings")),
        ("speakers soundbars audio", ("your living room", "movie nights")),
        ("headphones earbuds", ("your commute", "your daily commute")),
        ("laptops ultrabooks computers", ("work and study",)),
        ("keyboards mice webcams hubs peripherals", ("your desk", "your home office")),
        ("phones chargers protectors", ("life on the go",)),
        ("dresses tops blouses cardigans sweaters women", ("the season ahead",)),
        ("shirts polos jeans men", ("the week ahead",)),
        ("sneakers", ("everyday wear",)),
        ("boots", ("colder days",)),
        ("bags backpacks totes weekenders", ("your next trip", "everyday carry")),
        ("watches", ("everyday wear",)),
        ("skincare moisturizers cleansers creams gels balms", ("your daily routine",)),
        ("lips lipsticks glosses", ("a night out",)),
        ("fragrance candles mists parfum", ("cosy evenings",)),
        ("snacks granola chips bars bites", ("busy days", "snack time")),
        ("pantry oils sauces honey butters", ("weeknight dinners",)),
        ("games", ("game night", "family game night")),
        ("puzzles", ("a quiet evening", "rainy days")),
        ("building kits robot marble", ("rainy days", "young builders")),
        ("movies films comedy drama action thriller", ("movie night", "your next movie night")),
    )
)
LIST_CLOSERS = (
    " picked for you",
    ", picked for you",
    " for you",
    " you might like",
    ", chosen for you",
)
NO_FACTS_CHOICES = ("Picked for you", "Hand-picked for you", "A few picks for you")
BRAND_CLOSERS = (" for you", ", picked for you", " you might like")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join(parts: tuple[str, ...] | list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def noun_phrases(brief: ThemeBrief) -> list[str]:
    """What the email holds, from the most to the least specific, lower case (a brand
    or a label keeps its case). Without kinds: the theme's own name for its picks."""
    kinds = list(brief.kinds)
    if not kinds:
        label = brief.label
        if brief.kind in ("category", "brand") and label:
            return [f"{label} picks", f"{label} finds"]
        if brief.kind == "attribute" and label:
            return [f"picks in {label.lower()}"]
        if brief.kind == "new_arrivals":
            return ["new arrivals"]
        if brief.kind == "price_band" and brief.price_band:
            return [f"picks {brief.price_band}", f"finds {brief.price_band}"]
        return []
    phrases = [_join(kinds[:2]), kinds[0], f"{kinds[0]} and more"] if len(kinds) > 1 else kinds
    if len(kinds) >= 3:
        phrases.insert(0, _join(kinds[:3]))
    return list(dict.fromkeys(phrases))


def _occasions_of(words: set[str]) -> list[str]:
    found: list[str] = []
    for keys, options in OCCASIONS:
        if keys & words:
            found += [o for o in options if not set(o.split()) & words]
    return list(dict.fromkeys(found))


def occasions(brief: ThemeBrief, kinds: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """Occasions that fit every one of ``kinds`` (default: the brief's first kind, or its
    label without kinds), none repeating a word of its products: "trail mix" selects no
    run, "robot kits and board games" no game night."""
    if kinds is None:
        kinds = brief.kinds[:1]
    if not kinds:
        return tuple(_occasions_of(set(brief.occasion_words)))
    common: list[str] | None = None
    for kind in kinds:
        own = _occasions_of({w.lower() for w in kind.split()})
        common = own if common is None else [o for o in common if o in own]
    return tuple(common or ())


def available_styles(brief: ThemeBrief) -> tuple[str, ...]:
    """The styles whose facts the brief has, in a fixed order."""
    found = ["list"]
    if occasions(brief):
        found.append("occasion")
    if brief.brands:
        found.append("brand")
    if brief.colors or brief.materials:
        found.append("attribute")
    if brief.price_band:
        found.append("price")
    if brief.kind == "new_arrivals":
        found.append("new")
    return tuple(found)


# Candidates of one style split its phrasings this many ways, so that they differ; a
# constant, not the number of candidates, so asking for more keeps the first ones.
STYLE_ROUNDS = 3


def menu(brief: ThemeBrief, char_budget: int) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each candidate's style and the phrasings it may take, in candidate order: every
    style in turn, each round taking a share of the style's phrasings disjoint from the
    other rounds' while there are enough. A style whose phrasings ran out gives way to
    the next; a brief without facts gets plain phrases."""
    by_style = {s: choices(brief, s, char_budget) for s in available_styles(brief)}
    slots: list[tuple[str, tuple[str, ...]]] = []
    for round_index in range(STYLE_ROUNDS):
        for style, options in by_style.items():
            if len(options) >= STYLE_ROUNDS:
                slots.append((style, options[round_index::STYLE_ROUNDS]))
            elif round_index < len(options):
                slots.append((style, (options[round_index],)))
    if not slots:
        slots = [("list", (phrase,)) for phrase in NO_FACTS_CHOICES]
    return tuple(slots)


def greeted(brief: ThemeBrief, options: tuple[str, ...], room: int) -> tuple[str, ...]:
    """``options`` opened with the reader's name ("{first_name}, scented candles for
    you"), those that fit ``room`` characters besides the name; a brand keeps its case."""
    proper = {b.split()[0] for b in brief.brands if b.split()}
    out = []
    for text in options:
        first = text.split()[0] if text.split() else ""
        body = text if first in proper or first.isupper() else text[:1].lower() + text[1:]
        if len(body) + 2 <= room:
            out.append(f"{FIRST_NAME_TOKEN}, {body}")
    return tuple(out)


def slot_for(brief: ThemeBrief, index: int, char_budget: int) -> tuple[str, tuple[str, ...]]:
    """Candidate ``index``'s style and phrasings (the menu wraps once it is used up)."""
    slots = menu(brief, char_budget)
    return slots[index % len(slots)]


def choices(brief: ThemeBrief, style: str, char_budget: int) -> tuple[str, ...]:
    """Every phrasing of ``style`` for ``brief`` that fits ``char_budget``."""
    nps = noun_phrases(brief)
    if not nps:
        return ()
    out: list[str] = []
    if style == "list":
        for np, closer in product(nps, LIST_CLOSERS):
            if not (np.split()[-1] in ("picks", "finds") and "picked" in closer):
                out.append(_cap(np) + closer)
    elif style == "occasion":
        kinds = brief.kinds
        by_phrase = (
            [
                (_join(kinds[:2]), kinds[:2]),
                (kinds[0], kinds[:1]),
                (f"{kinds[0]} and more", kinds[:1]),
            ]
            if kinds
            else [(np, None) for np in nps]
        )
        for np, held in by_phrase:
            out += [f"{_cap(np)} for {o}" for o in occasions(brief, held)]
    elif style == "brand":
        brands = list(brief.brands)
        by = [_join(brands[:2]), brands[0]] if len(brands) > 1 else brands
        for np in nps if brief.kinds else []:
            out += [f"{b} {np}{c}" for b in brands[:1] for c in BRAND_CLOSERS]
            out += [f"{_cap(np)} from {b}" for b in by]
        if not brief.kinds:
            out += [f"{_cap(nps[0])} from {b}" for b in by]
    elif style == "attribute":
        if brief.colors:
            # The colours are those of the first kind's items: said of it alone.
            shades = [c.lower() for c in brief.colors]
            for np in nps[:1] if brief.kind != "attribute" else nps:
                out += [f"{_cap(np)} in {_join(shades[:2])}", f"{_cap(np)} in {shades[0]}"]
        for material in brief.materials:
            out += [f"{_cap(material.lower())} {np}" for np in nps if brief.kinds]
    elif style == "price":
        band = brief.price_band or ""
        if brief.kinds:
            out = [f"{_cap(np)} {band}" for np in nps] + [f"{_cap(band)}: {np}" for np in nps]
    elif style == "new" and brief.kinds:
        out = [f"New in: {np}" for np in nps] + [f"Just in: {np}" for np in nps]
    return tuple(t for t in dict.fromkeys(out) if len(t) <= char_budget)
