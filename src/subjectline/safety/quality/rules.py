"""Exact rules of the quality rubric: what a careful marketer would never send.

Each is a named check (``quality.<reason>``) in the same gate as the safety checks, so
the campaign, the simulator, fine-tuning and ``subjectline check`` reject alike. What no
rule can tell (a title whose every word is fine but which means nothing) is left to the
learned judge (``quality.judge``).
"""

from __future__ import annotations

import re
from functools import cache

from subjectline.safety.context import CheckContext
from subjectline.safety.registry import check
from subjectline.safety.text import PLACEHOLDER_RE, STOPWORDS, read_list, stem_keys, tokens

# Words that may repeat or close a purpose without naming a product.
_GENERIC = frozenset(
    """pick picks you your new favorite favourite one ones more item items product products
    thing things brand brands day days way home""".split()
)
PREPOSITIONS = ("for", "in", "to", "with", "into")
_PURPOSE_DETERMINERS = frozenset({"your", "a", "an", "the", "every", "our"})
# Words a finished English sentence does not end on (beyond form.truncated's list).
UNFINISHED_END = frozenset(
    """daily perfect delicious favorite favourite strong great fantastic best next special
    every each aren't isn't don't won't can't is are was were will would can could should
    shall must may might has have had do does did comes goes makes keeps that's it's
    which who whose while when where because although though unless until so such very
    really also even still yet off""".split()
)
FIRST_PERSON = frozenset({"i", "i'm", "i've", "i'll", "i'd", "me", "my", "mine", "myself"})
CHAT_WORDS = frozenset(
    """lol lmao rofl haha hahaha omg pita tbh btw imo idk smh wtf yay oops ugh meh""".split()
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


def _words(title: str) -> list[str]:
    return [t.text.replace("’", "'") for t in tokens(PLACEHOLDER_RE.sub(" ", title))]


def _content(word: str) -> bool:
    low = lemma(word)
    return low not in STOPWORDS and low not in _GENERIC and len(low) > 2 and low.isalpha()


@check("quality.tautology")
def tautology(title: str, ctx: CheckContext) -> str | None:
    """The purpose names the product itself: "Laptops for your laptop", "Yoga for your
    morning yoga routine", "Cold brew for your cold brew"."""
    found = _words(title)
    lows = [w.lower() for w in found]
    for i, word in enumerate(lows):
        if word not in PREPOSITIONS or i == 0:
            continue
        # "for your X", "in a X": a purpose; "Pretty in pink" is not.
        if word != "for" and (i + 1 >= len(lows) or lows[i + 1] not in _PURPOSE_DETERMINERS):
            continue
        head = {lemma(w) for w in found[:i] if _content(w)}
        tail = [w for w in found[i + 1 :] if _content(w)]
        for w in tail:
            if lemma(w) in head:
                return f"the purpose repeats {w!r}, which the title already sells"
        break  # only the first purpose phrase reads as the title's purpose
    return None


@check("quality.garbled")
def garbled(title: str, ctx: CheckContext) -> str | None:
    """Broken words or labels: a word twice in a row or three times, a repeat that is not
    a list of kinds ("Coffee and coffee & tea"), a plural after "a", odd inner capitals."""
    found = _words(title)
    lows = [w.lower() for w in found]
    for a, b in zip(lows, lows[1:], strict=False):
        if lemma(a) == lemma(b) and a.isalpha():
            return f"{a!r} twice in a row"
    seen: dict[str, list[int]] = {}
    for i, w in enumerate(lows):
        if _content(w):
            seen.setdefault(lemma(w), []).append(i)
    for key, where in seen.items():
        if len(where) >= 3:
            return f"{key!r} three times"
        if len(where) == 2:
            # "shirt dresses and maxi dresses": each is the head of its own kind.
            mods = [lows[i - 1] if i > 0 else "" for i in where]
            if not all(m and _content(m) for m in mods) or mods[0] == mods[1]:
                return f"{key!r} twice"
    for a, b in zip(lows, found[1:], strict=False):
        if a == "a" and b.lower().endswith("s") and lemma(b) != b.lower():
            if b.lower() in ctx.data_words or lemma(b) in ctx.data_words:
                return f"'a {b}': an article before a plural"
    for w in found:
        inner = w[1:]
        if w.isalpha() and any(c.isupper() for c in inner) and any(c.islower() for c in inner):
            if w not in ctx.raw_data_tokens:
                return f"{w!r} has capitals inside the word"
    return None


@check("quality.unfinished")
def unfinished(title: str, ctx: CheckContext) -> str | None:
    """Stops mid-thought: "...for your daily", "...that's perfect", "...so they aren't"."""
    text = PLACEHOLDER_RE.sub(" ", title).rstrip(" .!")
    found = _words(text)
    if not found:
        return None
    last = found[-1].lower()
    if last in UNFINISHED_END:
        return f"ends on {last!r}: the thought is unfinished"
    return None


@check("quality.voice")
def odd_voice(title: str, ctx: CheckContext) -> str | None:
    """The shop speaks, not a person: no "I"/"me", no chat slang or asides."""
    lows = [w.lower() for w in _words(title)]
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
        body = r"\s+".join(re.escape(p) for p in phrase.split())
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
            if not stated or phrase in _ALWAYS_CLAIMS:
                return f"claims {phrase!r}, which the items' data does not state"
    return None


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
    """Names a kind of product the email's items are not: garden furniture in a kitchen
    email, "fashion" for building sets, "candles" for lamps."""
    if not ctx.items:
        return None
    data = {lemma(w) for w in ctx.data_words} | {lemma(w) for w in ctx.brand_words}
    data_stems = ctx.data_stems
    for w in _words(title):
        key = lemma(w)
        if key not in product_nouns() or key in data:
            continue
        if stem_keys(key) & data_stems:
            continue
        return f"names {w.lower()!r}, which none of the email's items is"
    return None
