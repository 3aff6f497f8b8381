"""Exact rules of the quality rubric: what a careful marketer would never send.

Each is a named check (``quality.<reason>``) in the same gate as the safety checks, so
the campaign, the simulator, fine-tuning and ``subjectline check`` reject alike. What no
rule can tell (a title whose every word is fine but which means nothing) is left to the
learned judge (``quality.judge``).
"""

from __future__ import annotations

import itertools
import re
from functools import cache

from subjectline.safety.context import CheckContext
from subjectline.safety.registry import check
from subjectline.safety.text import PLACEHOLDER_RE, STOPWORDS, read_list, stem_keys, tokens

# Words that may repeat or close a purpose without naming a product.
_GENERIC = frozenset(
    [
        "pick",
        "picks",
        "you",
        "your",
        "new",
        "favorite",
        "favourite",
        "one",
        "ones",
        "more",
        "item",
        "items",
        "product",
        "products",
        "thing",
        "things",
        "brand",
        "brands",
        "day",
        "days",
        "way",
        "home",
    ]
)
PREPOSITIONS = ("for", "in", "to", "with", "into")
_PURPOSE_DETERMINERS = frozenset({"your", "a", "an", "the", "every", "our"})
# Words a finished English sentence does not end on (beyond form.truncated's list).
UNFINISHED_END = frozenset(
    [
        "daily",
        "perfect",
        "delicious",
        "favorite",
        "favourite",
        "strong",
        "great",
        "fantastic",
        "best",
        "next",
        "special",
        "every",
        "each",
        "aren't",
        "isn't",
        "don't",
        "won't",
        "can't",
        "is",
        "are",
        "was",
        "were",
        "will",
        "would",
        "can",
        "could",
        "should",
        "shall",
        "must",
        "may",
        "might",
        "has",
        "have",
        "had",
        "do",
        "does",
        "did",
        "comes",
        "goes",
        "makes",
        "keeps",
        "that's",
        "it's",
        "which",
        "who",
        "whose",
        "while",
        "when",
        "where",
        "because",
        "although",
        "though",
        "unless",
        "until",
        "so",
        "such",
        "very",
        "really",
        "also",
        "even",
        "still",
        "yet",
        "off",
    ]
)
FIRST_PERSON = frozenset({"i", "i'm", "i've", "i'll", "i'd", "me", "my", "mine", "myself"})
CHAT_WORDS = frozenset(
    [
        "lol",
        "lmao",
        "rofl",
        "haha",
        "hahaha",
        "omg",
        "pita",
        "tbh",
        "btw",
        "imo",
        "idk",
        "smh",
        "wtf",
        "yay",
        "oops",
        "ugh",
        "meh",
    ]
)
ODD_PHRASES = (
    "what do you think",
    "please!",
    ", please",
    "you are not alone",
    "don't eat",
    "trust me",
    "believe me",
    "if you ask",
)


def lemma(word: str) -> str:
    """Lower case without possessive or plural: ``Laptop's`` and ``laptops`` -> ``laptop``."""
    w = word.lower().replace("’", "'")
    w = re.sub(r"'s?$", "", w)
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith(("ches", "shes", "sses", "xes", "zes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def title_words(title: str) -> list[str]:
    """The title's words as written (placeholders dropped, curly apostrophes straightened)."""
    return [w for w, _, _ in _spans(title)]


def _content(word: str, generic: frozenset[str] = _GENERIC) -> bool:
    low = lemma(word)
    return low not in STOPWORDS and low not in generic and len(low) > 2 and low.isalpha()


# "Home decor for your home" is no tautology, but "Home and home & kitchen" is garbled.
_GARBLE_GENERIC = _GENERIC - {"home"}


# Nouns that only hold the thing before them: "your yoga routine" is yoga again.
CONTAINERS = frozenset(
    [
        "routine",
        "routines",
        "collection",
        "collections",
        "needs",
        "need",
        "kit",
        "set",
        "sets",
        "fix",
        "lovers",
        "lover",
        "fans",
        "fan",
        "picks",
        "pick",
        "selection",
        "edit",
        "choice",
        "choices",
        "options",
        "option",
        "purchase",
    ]
)
# Occasions a repeated word may qualify: "party games for game night" is not circular.
OCCASION_HEADS = frozenset(
    [
        "night",
        "nights",
        "party",
        "parties",
        "day",
        "days",
        "trip",
        "trips",
        "adventure",
        "adventures",
        "evening",
        "evenings",
        "weekend",
        "weekends",
        "morning",
        "mornings",
        "break",
        "time",
        "season",
        "session",
        "lover",
        "lovers",
    ]
)
_PUNCT_BREAK = re.compile(r"[,.;:!?()]")
_COLOURS = (
    "black|white|red|blue|green|navy|grey|gray|pink|beige|olive|brown|nude|berry|coral"
    "|yellow|purple|orange|cream|tan|silver|gold"
)
_COLOUR_LIST = re.compile(
    rf"^\s*(?:{_COLOURS})(?:\s*(?:,|and|, and)\s*(?:{_COLOURS}))*\s*[.!]?\s*$", re.IGNORECASE
)
_IN_COLOURS = re.compile(rf"\bin\s+(?:{_COLOURS})(?:\s*,\s*(?:{_COLOURS}))*\s*$", re.IGNORECASE)


def _colour_tail(text: str) -> str | None:
    """Colours left at the end after a comma, not a list opened by "in": the model
    pasted an item's label ("Headphones for your daily commute, Black.")."""
    head, comma, tail = text.rpartition(",")
    if not comma or not _COLOUR_LIST.match(tail):
        return None
    while _COLOUR_LIST.match(head.rpartition(",")[2]) and "," in head:
        head = head.rpartition(",")[0]  # "..., Navy, White": the whole tail
    return None if _IN_COLOURS.search(head) else tail.strip(" .!")


_BARE_PRICE = re.compile(
    r"\b(?:under|below|less than)\s+\d+(?![\d.,]*\s*(?:dollars|usd|eur|gbp))", re.IGNORECASE
)


def _spans(title: str) -> list[tuple[str, int, int]]:
    return [
        (t.text.replace("’", "'"), t.start, t.end) for t in tokens(PLACEHOLDER_RE.sub(" ", title))
    ]


@check("quality.tautology")
def tautology(title: str, ctx: CheckContext) -> str | None:
    """The purpose names the product itself: "Laptops for your laptop", "Yoga for your
    morning yoga routine", "Cold brew for your cold brew". A repeated word that only
    qualifies another noun ("party games for game night", "teas for a tea party") is not."""
    text = PLACEHOLDER_RE.sub(" ", title)
    spans = _spans(title)
    lows = [w.lower() for w, _, _ in spans]
    for i, word in enumerate(lows):
        if word not in PREPOSITIONS or i == 0:
            continue
        # "for your X", "in a X": a purpose; "Pretty in pink" is not.
        if word != "for" and (i + 1 >= len(lows) or lows[i + 1] not in _PURPOSE_DETERMINERS):
            continue
        head = {lemma(w) for w, _, _ in spans[:i] if _content(w)}
        for j in range(i + 1, len(spans)):
            w = spans[j][0]
            if _PUNCT_BREAK.search(text[spans[j - 1][2] : spans[j][1]]):
                break  # the purpose ends at punctuation: "..., maxi dresses for a party"
            if not _content(w) or lemma(w) not in head:
                continue
            follows = spans[j + 1][0].lower() if j + 1 < len(spans) else ""
            ends_phrase = (
                j + 1 >= len(spans)
                or follows in STOPWORDS
                or bool(_PUNCT_BREAK.search(text[spans[j][2] : spans[j + 1][1]]))
            )
            if ends_phrase or follows in CONTAINERS or follows not in OCCASION_HEADS:
                return f"the purpose repeats {w!r}, which the title already sells"
        break  # only the first purpose phrase reads as the title's purpose
    return None


@check("quality.garbled")
def garbled(title: str, ctx: CheckContext) -> str | None:
    """Broken words or labels: a word twice in a row, a word repeated where it stands
    alone ("Coffee and coffee & tea", "Bricks and Bricks"; "lip glosses and lip balms"
    is a list of kinds), a brand named twice, a plural after "a", capitals inside a word."""
    text = PLACEHOLDER_RE.sub(" ", title)
    spans = _spans(title)
    found = [w for w, _, _ in spans]
    lows = [w.lower() for w in found]
    twice = _brand_twice(lows, ctx)
    if twice:
        return f"{twice!r} named twice"
    for k in range(len(spans) - 1):
        a, b = lows[k], lows[k + 1]
        gap = text[spans[k][2] : spans[k + 1][1]]
        if a.isalpha() and lemma(a) == lemma(b) and not _PUNCT_BREAK.search(gap):
            return f"{a!r} twice in a row"

    def alone(i: int) -> bool:
        before = lows[i - 1] if i > 0 else ""
        after = lows[i + 1] if i + 1 < len(lows) else ""
        return not (before and before not in STOPWORDS) and not (after and after not in STOPWORDS)

    seen: dict[str, list[int]] = {}
    for i, w in enumerate(lows):
        # A word that names an occasion's kind is no repeat: "Teas for a tea party".
        qualifies = i + 1 < len(lows) and lows[i + 1] in OCCASION_HEADS
        if _content(w, _GARBLE_GENERIC) and not qualifies:
            seen.setdefault(lemma(w), []).append(i)

    def across_purpose(first: int, second: int) -> bool:
        """A word of a compound, then again in the purpose: "Smart home lighting for your
        home" (the tautology rule judges purposes)."""
        if alone(first):
            return False
        for k in range(first + 1, second - 1):
            if lows[k] == "for" and lows[k + 1] in _PURPOSE_DETERMINERS:
                return not _PUNCT_BREAK.search(text[spans[k][2] : spans[second][1]])
        return False

    for key, where in seen.items():
        pairs = [(a, b) for a, b in itertools.pairwise(where) if not across_purpose(a, b)]
        if any(alone(a) or alone(b) for a, b in pairs):
            return f"{key!r} repeated where it stands alone"
        for first, second in itertools.pairwise(where):
            gap = text[spans[first][2] : spans[second][1]]
            between = lows[first + 1 : second]
            if (
                second - first <= 2
                and not _PUNCT_BREAK.search(gap)
                and not set(between) & STOPWORDS
            ):
                return f"{key!r} twice within three words"
    tail = _colour_tail(text)
    if tail:
        return f"{tail!r} left at the end, as in an item's label"
    bare = _BARE_PRICE.search(text)
    if bare and "$" not in text and "€" not in text and "£" not in text:
        return f"{bare.group(0)!r}: a price without its currency"
    for article, noun in zip(lows, found[1:], strict=False):
        plural = noun.lower().endswith("s") and lemma(noun) != noun.lower()
        in_data = noun.lower() in ctx.data_words or lemma(noun) in ctx.data_words
        if article == "a" and plural and in_data:
            return f"'a {noun}': an article before a plural"
    for w in found:
        inner = w[1:]
        mixed = any(c.isupper() for c in inner) and any(c.islower() for c in inner)
        if w.isalpha() and mixed and w not in ctx.raw_data_tokens:
            return f"{w!r} has capitals inside the word"
    return None


def _brand_twice(lows: list[str], ctx: CheckContext) -> str | None:
    """A brand of the email's items or theme written twice ("Urban Thread's new Urban
    Thread Shirt Dresses"): one brand, one mention."""
    brands = {i.brand for i in ctx.items if i.brand}
    if ctx.theme is not None:
        brands.update(ctx.theme.brands)
    keys = [lemma(w) for w in lows]
    for brand in brands:
        # Joined, so that "Copper pot, Copperpot" is the brand twice as well.
        joined = "".join(lemma(w) for w in title_words(brand))
        mentions, i = 0, 0
        while joined and i < len(keys):
            width = next(
                (n for n in (1, 2, 3) if i + n <= len(keys) and "".join(keys[i : i + n]) == joined),
                0,
            )
            mentions += bool(width)
            i += width or 1
        if mentions >= 2:
            return brand
    return None


_LIKE_SUBJECTS = frozenset(
    ["might", "may", "will", "would", "you", "you'll", "you'd", "we", "they", "also", "really"]
)


@check("quality.unfinished")
def unfinished(title: str, ctx: CheckContext) -> str | None:
    """Stops mid-thought: "...for your daily", "...that's perfect", "...so they aren't"."""
    text = PLACEHOLDER_RE.sub(" ", title).rstrip(" .!")
    found = title_words(text)
    if not found:
        return None
    last = found[-1].lower()
    if last == "off" and re.search(r"\d\s*%\s*off$", text, re.IGNORECASE):
        return None  # "now 20% off": the discount closes the thought
    if last in UNFINISHED_END:
        return f"ends on {last!r}: the thought is unfinished"
    # "you might like" ends a thought; "products, like" opens a list it never gives.
    before = found[-2].lower() if len(found) > 1 else ""
    if last == "like" and before not in _LIKE_SUBJECTS:
        return "ends on 'like': the thought is unfinished"
    return None


@check("quality.voice")
def odd_voice(title: str, ctx: CheckContext) -> str | None:
    """The shop speaks, not a person: no "I"/"me", no chat slang or asides."""
    lows = [w.lower() for w in title_words(title)]
    for w in lows:
        if w in FIRST_PERSON:
            return f"first person {w!r}: the shop does not speak as a person"
        if w in CHAT_WORDS:
            return f"chat slang {w!r}"
    low = title.lower()
    for phrase in ODD_PHRASES:
        if phrase in low:
            return f"{phrase.strip(' ,!')!r} is not the shop's voice"
    return None


@cache
def _claims() -> tuple[tuple[str, re.Pattern[str]], ...]:
    found = []
    for line in read_list("quality_claims.txt"):
        phrase = line.lower()
        # "eco-friendly" is "eco friendly" too.
        body = r"[\s-]+".join(re.escape(p) for p in re.split(r"[\s-]+", phrase))
        found.append((phrase, re.compile(rf"(?<![\w-]){body}(?![\w-])", re.IGNORECASE)))
    return tuple(found)


@check("quality.claim")
def unsupported_claim(title: str, ctx: CheckContext) -> str | None:
    """A claim the items' data does not state: "the best in the world", "eco-friendly",
    "luxury", "a favorite among ...", "award-winning"."""
    text = PLACEHOLDER_RE.sub(" ", title).replace("’", "'")
    for phrase, pattern in _claims():
        if pattern.search(text):
            stated = all(
                w in ctx.data_words or stem_keys(w) & ctx.data_stems
                for w in re.findall(r"[a-z]+", phrase)
                if w not in STOPWORDS
            )
            if phrase in _PRICE_CLAIMS:
                stated = _all_low_priced(ctx)
            if not stated or phrase in _ALWAYS_CLAIMS:
                return f"claims {phrase!r}, which the items' data does not state"
    return None


def _all_low_priced(ctx: CheckContext) -> bool:
    prices = [price for _, price in ctx.effective_prices]
    return bool(prices) and max(prices) <= LOW_PRICE


# "Affordable" is a price claim: the prices state it when every item is cheap, whatever
# the item words say; the bar is the lowest price band the themes use.
_PRICE_CLAIMS = frozenset({"affordable", "budget-friendly", "for a budget", "for your budget"})
LOW_PRICE = 25.0

# Claims that a seller's word in a product name ("Eco Ultrabook") does not support.
_ALWAYS_CLAIMS = frozenset(
    {"eco-friendly", "environmentally friendly", "sustainable", "the best", "best in the world"}
)


@cache
def product_nouns() -> frozenset[str]:
    """Lemmas of words that name a kind of product (``lists/product_nouns.txt``)."""
    return frozenset(lemma(w) for line in read_list("product_nouns.txt") for w in line.split())


@check("quality.off_theme")
def off_theme(title: str, ctx: CheckContext) -> str | None:
    """Names a kind of product the email's items are not (garden furniture in a kitchen
    email, "fashion" for building sets, "candles" for lamps), or a use they do not have
    (jeans "for your morning swim", puzzles "for your daily commute")."""
    if not ctx.items:
        return None
    data = {lemma(w) for w in ctx.data_words} | {lemma(w) for w in ctx.brand_words}
    data_stems = ctx.data_stems
    for w in title_words(title):
        key = lemma(w)
        if key not in product_nouns() or key in data:
            continue
        if stem_keys(key) & data_stems:
            continue
        return f"names {w.lower()!r}, which none of the email's items is"
    return unfit_purpose(title, ctx)


@cache
def purpose_fits() -> dict[str, frozenset[str]]:
    """Activity lemma -> lemmas of the item words it needs (``lists/purpose_fits.txt``)."""
    table: dict[str, frozenset[str]] = {}
    for line in read_list("purpose_fits.txt"):
        activities, _, needs = line.partition(":")
        fits = frozenset(lemma(w) for w in needs.split())
        for word in activities.split():
            table[lemma(word)] = table.get(lemma(word), frozenset()) | fits
    return table


def purpose_phrases(title: str) -> list[list[str]]:
    """The words of each purpose: after a "for" or "to" that does not open the title, up
    to the next punctuation ("for your walk or ride" -> walk, or, ride)."""
    text = PLACEHOLDER_RE.sub(" ", title)
    spans = _spans(title)
    phrases: list[list[str]] = []
    for i, (word, _, _) in enumerate(spans):
        if i == 0 or word.lower() not in ("for", "to"):
            continue
        phrase: list[str] = []
        for j in range(i + 1, len(spans)):
            if _PUNCT_BREAK.search(text[spans[j - 1][2] : spans[j][1]]):
                break
            phrase.append(spans[j][0])
        phrases.append(phrase)
    return phrases


def unfit_purpose(title: str, ctx: CheckContext) -> str | None:
    """A purpose whose activities none of the email's items serves ("workout adventures"
    fits fitness gear through "workout")."""
    if not ctx.items:
        return None
    have = {lemma(w) for w in ctx.data_words}
    table = purpose_fits()
    for phrase in purpose_phrases(title):
        listed = [w for w in phrase if lemma(w) in table]
        if listed and not any(table[lemma(w)] & have for w in listed):
            return f"is for {listed[0].lower()!r}, which none of the email's items is used for"
    return None


# "for your morning pick", "for your daily pick-up": the email's picks are what it
# sends, not something its items serve.
_PICK_PURPOSE = re.compile(
    r"\b(?:for|to)\s+(?:your|a|the|every|our)\s+(?:[\w'-]+\s+){0,3}?"
    r"pick(?:s|-?ups?|\s+ups?)?\b(?!\s+(?:of|from)\b)",
    re.IGNORECASE,
)


# A subject line has nothing above it: "from all the above brands".
_ABOVE = re.compile(r"\b(?:the|all the|any of the|all of the) above\b", re.IGNORECASE)
_NEXT_DAY = re.compile(r"\bfor your next day\b(?!\s+(?:out|off|trip)\b)", re.IGNORECASE)


def incoherent_phrase(title: str, ctx: CheckContext) -> str | None:
    """A pick, a day or "the above" given as what the items are for ("Tea for your
    morning pick", "Fragrance for your next day's specials", "for your pick from all the
    above brands"), or the reader told to become the category. "Urban Thread brand
    picks" and "picks for your weekend" are fine."""
    text = PLACEHOLDER_RE.sub(" ", title)
    found = _PICK_PURPOSE.search(text)
    if found:
        return f"{found.group(0)!r}: a pick is what the email sends, not what it is for"
    day = _NEXT_DAY.search(text)
    if day:
        return f"{day.group(0)!r}: a day is no use for the items"
    above = _ABOVE.search(text)
    if above:
        return f"{above.group(0)!r}: a subject line has nothing above it"
    return _become_the_label(text, ctx)


def _become_the_label(text: str, ctx: CheckContext) -> str | None:
    """The reader told to become the category: "Become a beauty lover", "Become your
    beauty with Glowhaus". ("Become a better cook" names no category.)"""
    lows = [w.lower() for w in title_words(text)]
    if not lows or lows[0] != "become" or ctx.theme is None:
        return None
    rest = [w for w in lows[1:] if w not in _PURPOSE_DETERMINERS]
    label = {lemma(w) for w in title_words(ctx.theme.label.lower())}
    if rest and lemma(rest[0]) in label:
        return f"'become ... {rest[0]}': nobody becomes the category"
    return None


@cache
def field_words() -> frozenset[str]:
    """Lemmas of category names that are a field, not a product (``lists/field_labels.txt``)."""
    return frozenset(lemma(w) for line in read_list("field_labels.txt") for w in line.split())


@check("quality.incoherent")
def incoherent(title: str, ctx: CheckContext) -> str | None:
    """Every word is fine, the sentence means nothing (the rules that can tell)."""
    return field_as_product(title, ctx) or incoherent_phrase(title, ctx)


def field_as_product(title: str, ctx: CheckContext) -> str | None:
    """A field sold as if it were a product: "Strength for you!", "Yoga for your next
    adventure", "Kitchen, new arrival to you". "Strength picks" and "yoga mats" are
    products; the bare field followed by a purpose, a comma or nothing is not."""
    text = PLACEHOLDER_RE.sub(" ", title)
    spans = _spans(title)
    lows = [w.lower() for w, _, _ in spans]
    k = 0
    while k < len(lows) and (lemma(lows[k]) in field_words() or (k and lows[k] == "and")):
        k += 1
    if k == 0 or lows[k - 1] == "and":
        return None
    field = " ".join(w for w, _, _ in spans[:k])
    rest = lows[k] if k < len(lows) else ""
    broken = k < len(spans) and bool(_PUNCT_BREAK.search(text[spans[k - 1][2] : spans[k][1]]))
    if not rest or broken or rest in ("for", "to"):
        return f"{field!r} is a field, not something to buy"
    return None
