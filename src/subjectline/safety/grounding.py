"""Grounding checks: every factual claim in a title is backed by the email's data.

Discounts and urgency need an *active* promotion that applies to at least one of the
email's items; prices are compared with the items' prices after their best active
promotion; brands and products named must be the email's own; the title must be about
the theme. Item text (seller-written) backs product facts ("100% cotton", "gluten-free")
but never a discount.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from subjectline.safety.context import CheckContext, brand_key
from subjectline.safety.registry import check
from subjectline.safety.text import (
    PLACEHOLDER_RE,
    canonical,
    expand_synonyms,
    is_english,
    known_names,
    nfkc,
    stem_keys,
    tokens,
    words,
)

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?"
PERCENT_RE = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d+)?)\s?(?:%|percent\b|per\s?cent\b)")
HALF_RE = re.compile(r"\bhalf[\s-](?:off|price)\b")
DISCOUNT_AFTER = re.compile(r"^\s*(?:off|discount|savings?|less|cheaper|reduction|markdown)\b")
DISCOUNT_BEFORE = re.compile(
    r"\b(?:save|saving|savings|up to|upto|extra|take|get|enjoy|sale|discount|discounts|"
    r"discounted|reduced|markdowns?)\W*(?:\w+\W+)?$"
)
SYMBOL_CURRENCIES = {
    "$": {"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN"},
    "£": {"GBP"},
    "€": {"EUR"},
    "¥": {"JPY", "CNY"},
    "₹": {"INR"},
}
WORD_CURRENCIES = {
    "usd": {"USD"}, "dollars": SYMBOL_CURRENCIES["$"], "dollar": SYMBOL_CURRENCIES["$"],
    "bucks": SYMBOL_CURRENCIES["$"], "eur": {"EUR"}, "euro": {"EUR"}, "euros": {"EUR"},
    "gbp": {"GBP"}, "pounds": {"GBP"}, "quid": {"GBP"},
}  # fmt: skip
PRICE_RE = re.compile(
    rf"(?P<sym>[$£€¥₹])\s?(?P<a>{_NUM})(?P<k>k\b)?"
    rf"|(?<![\w.])(?P<b>{_NUM})\s?(?P<word>usd|eur|gbp|dollars?|bucks|euros?|pounds|quid)\b"
)
ALL_WORDS = re.compile(r"\b(?:everything|all items|sitewide|site-wide|storewide|store-wide|all)\b")
SALE_RE = re.compile(
    r"\b(?:sale|on sale|sales event|discounts?|discounted|deals?|markdowns?|marked down|"
    r"clearance|price drops?|price cuts?|prices? slashed|reduced|save|savings|bargains?|"
    r"coupons?|promo(?: code)?|vouchers?|special offers?|offers?|"
    r"doorbusters?|flash sale|"
    r"half[\s-]price|half[\s-]off|cheaper|lower prices|bogo|buy one,? get one|"
    r"\d\s?for\s?\d|2-for-1|black friday|cyber monday|prime day|boxing day|singles day)\b"
)
URGENCY_RE = re.compile(
    r"\b(?:last chance|final hours?|final days?|final call|ends? soon|ending soon|last day|"
    r"hurry|limited time|today only|tonight only|this weekend only|weekend only|"
    r"(?:24|48|72) hours? only|while it lasts|won'?t last|time is running out|expiring soon|"
    r"countdown)\b"
)
STOCK_RE = re.compile(
    r"\b(?:only \d+ left|\d+ left|almost gone|selling fast|going fast|low stock|limited stock|"
    r"while (?:stocks?|supplies) last|few left|nearly sold out|sold out|back in stock|"
    r"restocked|selling out|limited edition|limited quantities)\b"
)
# "New" as a claim about the items ("New in shirts", "Just landed"), not "a new mat for you".
NEW_RE = re.compile(
    r"^new\b|\bnew (?:in|arrivals?|from|season|collection|drops?|releases?|styles?)\b|"
    r"\b(?:newest|latest|just in|just landed|just dropped|just arrived|fresh arrivals?|"
    r"brand[- ]new)\b"
)
MONTHS = {
    m: i + 1
    for i, names in enumerate(
        ("jan january", "feb february", "mar march", "apr april", "may", "jun june",
         "jul july", "aug august", "sep sept september", "oct october", "nov november",
         "dec december")
    )
    for m in names.split()
}  # fmt: skip
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH_ALT = "|".join(sorted(MONTHS, key=len, reverse=True))
DATE_RES = (
    re.compile(rf"\b(?P<month>{_MONTH_ALT})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b"),
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{_MONTH_ALT})\b"),
    re.compile(r"(?<![\d/])(?P<m>\d{1,2})/(?P<d>\d{1,2})(?:/(?P<y>\d{2,4}))?(?![\d/])"),
    re.compile(r"\b(?P<y>20\d\d)-(?P<m>\d{2})-(?P<d>\d{2})\b"),
)
# A weekday or "today" is a date claim after a time word or before "only"
# ("ends Friday", "this Sunday", "today only"), not in "Sunday dinners".
_RELATIVE = rf"(?:today|tonight|tomorrow|weekend|midnight|{'|'.join(WEEKDAYS)})"
RELATIVE_RE = re.compile(
    rf"\b(?:ends?|ending|until|till|thru|through|by|on|this|before|expires?|from)\s+"
    rf"(?:at\s+)?(?P<w>{_RELATIVE})\b|\b(?P<o>{_RELATIVE})\s+only\b"
)
ENDING_WORDS = re.compile(r"\b(?:ends?|ending|until|till|thru|through|by|expires?)\W+(?:\w+\W+)?$")
COUNT_RE = re.compile(
    r"\b(?:top\s+(?P<a>\d+)|(?P<b>\d+)\s+(?:picks|finds|items|styles|ideas|gifts|looks|"
    r"favou?rites|essentials|must-haves|reasons|ways|products|pieces))\b"
)


def _claim_text(title: str) -> str:
    return canonical(PLACEHOLDER_RE.sub(" ", title))


def _discount_context(text: str, start: int, end: int) -> bool:
    return bool(DISCOUNT_AFTER.match(text[end:]) or DISCOUNT_BEFORE.search(text[:start]))


@check("grounding.percent")
def percent(title: str, ctx: CheckContext) -> str | None:
    text = _claim_text(title)
    best = max((p.discount_pct for p in ctx.active_promotions), default=0.0)
    claims = [(float(m.group(1)), m.start(), m.end()) for m in PERCENT_RE.finditer(text)]
    claims += [(50.0, m.start(), m.end()) for m in HALF_RE.finditer(text)]
    for value, start, end in claims:
        if value > 100:
            return f"{value:g}% is not a real percentage"
        if _discount_context(text, start, end) or HALF_RE.match(text, start):
            if not ctx.active_promotions:
                return f"claims {value:g}% off but no active promotion applies to these items"
            if value > best + 1e-9:
                return f"claims {value:g}% off but the best active promotion is {best:g}%"
            if ALL_WORDS.search(text) and not _covers_all(ctx, value):
                return f"claims {value:g}% off everything but not every item has it"
        elif f"{value:g}%" not in ctx.item_text.replace(" %", "%"):
            return f"{value:g}% is not in the items' data"
    return None


def _covers_all(ctx: CheckContext, value: float) -> bool:
    return all(ctx.best_discount(i) >= value - 1e-9 for i in ctx.items)


@check("grounding.price")
def price(title: str, ctx: CheckContext) -> str | None:
    text = _claim_text(title)
    for m in PRICE_RE.finditer(text):
        raw = m.group("a") or m.group("b")
        amount = float(raw.replace(",", "")) * (1000 if m.group("k") else 1)
        currencies = (
            SYMBOL_CURRENCIES[m.group("sym")]
            if m.group("sym")
            else WORD_CURRENCIES[m.group("word")]
        )
        priced = [(i, p) for i, p in ctx.effective_prices if i.currency.upper() in currencies]
        shown = m.group(0).strip()
        if not priced:
            return f"{shown}: no item is priced in {'/'.join(sorted(currencies))}"
        if DISCOUNT_AFTER.match(text[m.end() :]):
            saving = max((i.price * ctx.best_discount(i) / 100 for i, _ in priced), default=0.0)
            if saving + 0.005 < amount:
                return f"claims {shown} off but the largest active saving is {saving:.2f}"
            continue
        cheapest = min(p for _, p in priced)
        dearest = max(p for _, p in priced)
        if ALL_WORDS.search(text[: m.start()]) and dearest > amount + 0.005:
            return f"claims everything at {shown} but an item costs {dearest:.2f}"
        if cheapest > amount + 0.005:
            return f"claims {shown} but the cheapest item costs {cheapest:.2f}"
    return None


# "Hearthly offers a range of ..." is the verb: "offers" after a word that is not a
# determiner or an adjective of offers, before an article.
_OFFERS_VERB = re.compile(r"offers\s+(?:a|an|the)\b")
_OFFER_MODIFIERS = re.compile(
    r"a|an|the|our|your|these|those|more|new|latest|top|best|great|hot|big|exclusive|special|"
    r"amazing|weekly|daily|members?|seasonal|holiday|and|or"
)


def _is_offers_verb(text: str, m: re.Match[str]) -> bool:
    before = re.findall(r"[a-z0-9']+", text[: m.start()])
    return (
        bool(_OFFERS_VERB.match(text, m.start()))
        and bool(before)
        and not _OFFER_MODIFIERS.fullmatch(before[-1])
    )


@check("grounding.sale")
def sale(title: str, ctx: CheckContext) -> str | None:
    text = _claim_text(title)
    m = next((m for m in SALE_RE.finditer(text) if not _is_offers_verb(text, m)), None)
    if not m:
        return None
    phrase = m.group(0)
    if re.fullmatch(r"bogo|buy one,? get one|\d\s?for\s?\d|2-for-1", phrase):
        return f"{phrase!r}: no such offer exists in the promotions"
    if phrase in ctx.item_text and phrase in ctx.data_words:
        return None
    if not ctx.active_promotions:
        return f"{phrase!r} but no active promotion applies to these items"
    return None


@check("grounding.free")
def free(title: str, ctx: CheckContext) -> str | None:
    text = _claim_text(title)
    toks = [t.lower for t in tokens(text)]
    for i, tok in enumerate(toks):
        if tok != "free":
            continue
        before = toks[i - 1] if i else ""
        after = toks[i + 1] if i + 1 < len(toks) else ""
        phrases = [f"{before} free", f"{before}-free", f"free {after}", f"free-{after}"]
        if any(p.strip(" -") != "free" and _in_items(p, ctx) for p in phrases):
            continue
        if after in ("shipping", "delivery", "postage", "returns") and _free_shipping(ctx):
            continue
        claim = f"free {after}".strip() if after else f"{before} free".strip()
        return f"{claim!r} is not backed by the items or promotions"
    return None


def _in_items(phrase: str, ctx: CheckContext) -> bool:
    pattern = r"(?<![a-z0-9])" + re.escape(phrase).replace(r"\ ", r"[\s-]") + r"(?![a-z0-9])"
    return re.search(pattern, ctx.item_text) is not None


def _free_shipping(ctx: CheckContext) -> bool:
    """An item attribute such as ``shipping: free`` or ``free_shipping: true``."""
    for item in ctx.items:
        for key, value in item.attributes.items():
            k, v = key.lower(), str(value).lower()
            if ("shipping" in k or "delivery" in k) and (
                "free" in v or ("free" in k and v in ("true", "yes", "1"))
            ):
                return True
    return False


@check("grounding.urgency")
def urgency(title: str, ctx: CheckContext) -> str | None:
    m = URGENCY_RE.search(_claim_text(title))
    if not m:
        return None
    phrase = m.group(0)
    if not ctx.active_promotions:
        return f"{phrase!r} but no active promotion applies to these items"
    if phrase in ("limited time",):
        return None
    soonest = min(p.ends_at for p in ctx.active_promotions)
    hours = (soonest - ctx.at).total_seconds() / 3600
    if hours > ctx.urgency_hours:
        return f"{phrase!r} but the promotion runs {hours / 24:.0f} more days"
    return None


@check("grounding.stock")
def stock(title: str, ctx: CheckContext) -> str | None:
    m = STOCK_RE.search(_claim_text(title))
    if m:
        return f"{m.group(0)!r}: the data has no stock levels to back it"
    return None


@check("grounding.new")
def new(title: str, ctx: CheckContext) -> str | None:
    if ctx.new_within_days is None:
        return None
    m = NEW_RE.search(_claim_text(title))
    if not m:
        return None
    since = ctx.at - timedelta(days=ctx.new_within_days)
    if any(i.added_at >= since for i in ctx.items):
        return None
    return f"{m.group(0)!r} but no item was added in the last {ctx.new_within_days} days"


def _last_day(ends_at: datetime) -> date:
    """A promotion ending at midnight ends the day before."""
    return (ends_at - timedelta(microseconds=1)).date()


def _date_ok(day: date, ending: bool, ctx: CheckContext) -> bool:
    for p in ctx.active_promotions:
        last = _last_day(p.ends_at)
        if (ending and day == last) or (not ending and ctx.at.date() <= day <= last):
            return True
    return any(day.isoformat() in text for text in ctx.item_texts)


def _mentioned_dates(text: str, ctx: CheckContext) -> list[tuple[str, date, int]]:
    today = ctx.at.date()
    out: list[tuple[str, date, int]] = []
    for pattern in DATE_RES:
        for m in pattern.finditer(text):
            g = m.groupdict()
            try:
                month = MONTHS[g["month"]] if g.get("month") else int(g["m"])
                day_n = int(g["day"] if g.get("day") else g["d"])
                year = int(g["y"]) if g.get("y") else today.year
                year += 2000 if year < 100 else 0
                day = date(year, month, day_n)
            except (ValueError, KeyError, TypeError):
                continue
            if not g.get("y") and day < today - timedelta(days=180):
                day = day.replace(year=year + 1)
            out.append((m.group(0), day, m.start()))
    for m in RELATIVE_RE.finditer(text):
        word = m.group("w") or m.group("o")
        start = m.start("w") if m.group("w") else m.start()
        if word in ("today", "tonight", "midnight"):
            out.append((word, today, start))
        elif word == "tomorrow":
            out.append((word, today + timedelta(days=1), start))
        elif word == "weekend":
            sat = today + timedelta(days=(5 - today.weekday()) % 7)
            out.append((word, sat, start))
        else:
            ahead = (WEEKDAYS.index(word) - today.weekday()) % 7
            out.append((word, today + timedelta(days=ahead), start))
    return out


@check("grounding.date")
def dates(title: str, ctx: CheckContext) -> str | None:
    text = _claim_text(title)
    for shown, day, start in _mentioned_dates(text, ctx):
        ending = bool(ENDING_WORDS.search(text[:start]))
        weekend = shown == "weekend"
        ok = _date_ok(day, ending, ctx) or (
            weekend and _date_ok(day + timedelta(days=1), ending, ctx)
        )
        if not ok:
            what = "the last day of" if ending else "within"
            return f"{shown!r} ({day.isoformat()}) is not {what} an active promotion"
    return None


@check("grounding.number")
def number(title: str, ctx: CheckContext) -> str | None:
    """Counts ("Top 5") must not exceed the items; other numbers must be in the data."""
    text = _claim_text(title)
    covered: list[tuple[int, int]] = []
    for pattern in (PERCENT_RE, PRICE_RE, *DATE_RES, HALF_RE):
        covered += [m.span() for m in pattern.finditer(text)]
    for m in COUNT_RE.finditer(text):
        n = int(m.group("a") or m.group("b"))
        if n > max(len(ctx.items), 1) or n == 0:
            return f"{m.group(0)!r} but the email has {len(ctx.items)} items"
        covered.append(m.span())
    data_tokens = set(ctx.data_words)
    for tok in tokens(text):
        if not any(ch.isdigit() for ch in tok.text):
            continue
        if any(a <= tok.start < b for a, b in covered):
            continue
        t = tok.lower
        if t in data_tokens or t in (str(ctx.at.year), str(ctx.at.year + 1)):
            continue
        return f"the number {tok.text!r} is not in the items' data"
    return None


@dataclass(frozen=True)
class _NamePattern:
    first_word: str
    ambiguous: bool
    pattern: re.Pattern[str]


@lru_cache(maxsize=4096)
def _name_pattern(name: str) -> _NamePattern | None:
    name_words = words(name)
    if not name_words:
        return None
    ambiguous = all(is_english(w) for w in name_words)
    if ambiguous:  # exact capitals: "Coach", "Gap", "Target"
        return _NamePattern(
            name_words[0], True, re.compile(r"(?<![\w])" + re.escape(name) + r"(?![\w])")
        )
    joined = r"[\s\-'’.]*".join(re.escape(w) for w in name_words)
    return _NamePattern(name_words[0], False, re.compile(r"(?<![\w])" + joined + r"(?![\w])"))


def _name_mentions(title: str, name: str, title_words: frozenset[str] | None = None) -> bool:
    """Is ``name`` in ``title`` as whole words? Names that are also English words must be
    written with their capitals and not open the title (``Coach``, ``Gap``, ``Target``)."""
    p = _name_pattern(name)
    if p is None:
        return False
    if title_words is not None and p.first_word not in title_words:
        return False
    if p.ambiguous:
        return any(m.start() > 0 for m in p.pattern.finditer(title))
    return p.pattern.search(canonical(title).replace("&", " and ")) is not None


@check("grounding.brand")
def brand(title: str, ctx: CheckContext) -> str | None:
    names = {n for kind, n in known_names() if kind == "brand"} | set(ctx.known_brands)
    title_words = frozenset(words(title.replace("&", " and ")))
    for name in sorted(names):
        if _name_mentions(title, name, title_words) and brand_key(name) not in ctx.item_brands:
            return f"names the brand {name!r}, which is not among the email's items"
    return None


@check("grounding.product")
def product(title: str, ctx: CheckContext) -> str | None:
    title_words = frozenset(words(title))
    for kind, name in known_names():
        if kind != "product" or not _name_mentions(title, name, title_words):
            continue
        if not any(
            _name_mentions(" " + text, name) or name.lower() in text for text in ctx.item_texts
        ):
            return f"names the product {name!r}, which is not among the email's items"
    return None


@check("grounding.category")
def category(title: str, ctx: CheckContext) -> str | None:
    """A word naming a kind of product in the catalog ("yoga", "headphones") must be a word
    of the email's items: no promising coffee to someone whose email holds none."""
    if not ctx.catalog_words:
        return None
    title_words = set(words(PLACEHOLDER_RE.sub(" ", title)))
    for word in sorted(title_words & ctx.catalog_words):
        # "Saucepan sets" names the "Saucepan Set" the email holds: compare stems too.
        if word not in ctx.data_words and not stem_keys(word) & ctx.data_stems:
            return f"names {word!r}, a kind of product none of the email's items is"
    return None


POSSESSIVE_RE = re.compile(r"['’]s$", re.IGNORECASE)


@check("grounding.name")
def unknown_name(title: str, ctx: CheckContext) -> str | None:
    """A capitalised word (the first one too: "Watchders, watches") that is neither
    English nor in the email's data or the known brands is a made-up or misspelled name
    (small models write "Dermaleabrite" for "Dermaleaf"); a possessive is judged without
    its "'s" ("Moko's"). Lower-case words are left to ``form.language``."""
    for token in tokens(nfkc(PLACEHOLDER_RE.sub(" ", title))):
        word = POSSESSIVE_RE.sub("", token.text)
        if len(word) < 4 or not word.isalpha() or not word[0].isupper():
            continue
        low = word.lower()
        if low in ctx.data_words or low in ctx.brand_words or is_english(low):
            continue
        return f"{word!r} is neither an English word nor a name in the email's items"
    return None


GENERIC_THEME_WORDS = frozenset(stem_keys("pick") | stem_keys("picks"))
NEW_WORDS = frozenset({"new", "newest", "latest", "fresh", "arrival", "just", "landed", "drop"})
PRICE_WORDS = frozenset({"under", "budget", "affordable", "value", "less", "below", "price"})


@check("grounding.theme")
def theme(title: str, ctx: CheckContext) -> str | None:
    """The title names the theme (its label, brand or attributes, or a synonym), a
    category, brand or attribute word that the items share, or a product word from the
    items' titles. Mixed themes pass."""
    t = ctx.theme
    if t is None or t.is_mixed:
        return None
    title_stems = {k for w in words(PLACEHOLDER_RE.sub(" ", title)) for k in stem_keys(w)}
    if t.kind == "new_arrivals" and title_stems & NEW_WORDS:
        return None
    if t.kind == "price_band" and (title_stems & PRICE_WORDS or PRICE_RE.search(title)):
        return None
    theme_words = words(" ".join([t.label, *t.brands, *t.attributes.values()]))
    theme_stems = {k for w in theme_words for k in stem_keys(w)} - GENERIC_THEME_WORDS
    targets = expand_synonyms(theme_stems | ctx.shared_stems | ctx.item_title_stems)
    targets -= GENERIC_THEME_WORDS
    if title_stems & targets:
        return None
    if any(brand_key(b) and _name_mentions(title, b) for b in t.brands):
        return None
    return f"does not name the theme {t.label!r} or anything its items share"
