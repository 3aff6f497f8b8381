"""Form checks: the title is one clean, complete, readable line in the campaign's language."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter

from subjectline.safety.context import CheckContext
from subjectline.safety.registry import check
from subjectline.safety.text import (
    PLACEHOLDER_RE,
    canonical,
    emoji_count,
    english_prefixes,
    fold_confusables,
    is_english,
    nfkc,
    script_of,
    tokens,
    words,
)

LINE_BREAKS = "\n\r\v\f\x85\u2028\u2029"
# Acronyms a product title legitimately shouts.
ACRONYMS = frozenset(
    [
        "USB",
        "LED",
        "LCD",
        "OLED",
        "QLED",
        "HD",
        "UHD",
        "HDR",
        "TV",
        "DVD",
        "CD",
        "LP",
        "DJ",
        "PC",
        "PS5",
        "SSD",
        "HDD",
        "RAM",
        "GPS",
        "HDMI",
        "RGB",
        "UV",
        "SPF",
        "AAA",
        "NBA",
        "NFL",
        "MLB",
        "NHL",
        "FIFA",
        "UEFA",
        "USA",
        "UK",
        "EU",
        "NYC",
        "LA",
        "DIY",
        "BBQ",
        "XL",
        "XXL",
        "XS",
        "SUV",
        "EV",
        "VR",
        "AR",
        "AI",
        "MP3",
        "ANC",
        "NFC",
        "WIFI",
        "IPA",
        "CBD",
        "BPA",
        "PVC",
        "SOS",
        "ASAP",
        "FAQ",
    ]
)
DANGLING_END = frozenset(
    [
        "and",
        "or",
        "but",
        "with",
        "for",
        "the",
        "a",
        "an",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "from",
        "your",
        "our",
        "my",
        "their",
        "its",
        "as",
        "than",
        "into",
        "onto",
        "via",
        "plus",
        "vs",
    ]
)
# Prepositions English leaves at the end of "to <verb> ...": "to choose from".
_STRANDABLE = frozenset(["from", "with", "in", "on", "to", "for", "into", "about"])
_IDIOM_ENDS = frozenset([("night", "in"), ("day", "in")])
DETERMINERS = frozenset(
    ["a", "an", "the", "your", "our", "my", "their", "this", "these", "that", "every"]
)
OPEN_ADJECTIVES = frozenset(
    [
        "next",
        "new",
        "best",
        "first",
        "last",
        "favorite",
        "favourite",
        "perfect",
        "latest",
        "top",
        "own",
        "big",
        "little",
        "great",
        "ultimate",
        "everyday",
        "essential",
    ]
)
FOREIGN_STOPWORDS = frozenset(
    [
        "le",
        "les",
        "des",
        "du",
        "et",
        "pour",
        "avec",
        "sur",
        "dans",
        "une",
        "vous",
        "votre",
        "nouveau",
        "nouveautés",
        "soldes",
        "el",
        "los",
        "las",
        "y",
        "para",
        "por",
        "del",
        "nuevo",
        "nuevos",
        "nueva",
        "ofertas",
        "rebajas",
        "tus",
        "sus",
        "und",
        "der",
        "das",
        "mit",
        "für",
        "ist",
        "nicht",
        "auf",
        "ein",
        "eine",
        "ihre",
        "neu",
        "angebote",
        "il",
        "di",
        "che",
        "della",
        "dei",
        "nuovo",
        "em",
        "com",
        "uma",
        "novo",
        "het",
        "een",
        "van",
        "voor",
        "niet",
        "de",
        "la",
    ]
)
URL_RE = re.compile(
    r"(?ix)"
    r"\b(?:https?|ftp|hxxps?)\s*:\s*//\S*"
    r"|\bwww\d?\s*\.\s*\S+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\s?\.\s?(?:com|net|org|io|ly|co|shop|store|biz|info|xyz"
    r"|app|me|ru|cn|top|club|online|site|link|gl|gg|click|page|live|sale|deals)\b(?:/\S*)?"
    r"|\b[a-z0-9-]+\s*(?:\[dot\]|\(dot\)|\sdot\s)\s*[a-z]{2,6}\b"
)
MARKUP_RES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"</?[a-zA-Z][^<>]*>"), "HTML tag"),
    (re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{2,6}|#x[0-9a-fA-F]{2,6});"), "HTML entity"),
    (re.compile(r"\*\*|__|~~|`"), "markdown emphasis"),
    (re.compile(r"\[[^\]]*\]\([^)]*\)"), "markdown link"),
    (re.compile(r"^\s*(?:#{1,6}\s|>\s|[-*+•]\s|\d+[.)]\s)"), "markdown heading or list"),
)
QUOTE_PAIRS = {'"': '"', "'": "'", "“": "”", "‘": "’", "«": "»", "„": "“"}
META_RES = (
    re.compile(
        r"(?i)^\s*(?:email\s+)?(?:subject(?:\s+line)?|title|headline|preheader|option\s*\d+"
        r"|answer|output|response)\s*\d*\s*[:\-–]"
    ),
    re.compile(r"(?i)^\s*(?:sure|certainly|of course|okay|ok|absolutely)\s*[,!.:]"),
    re.compile(r"(?i)\bhere(?:'s|’s| is| are)\s+(?:your|a|the|some|my)\s+(?:\w+\s+)?"
               r"(?:subject|title|headline|option|suggestion|email)"),
    re.compile(r"(?i)\bsubject\s+lines?\b|\(\s*\d+\s*(?:characters|chars|words)\s*\)"),
    # Refusals, and the prompt's own field names echoed back (seen from SmolLM2).
    re.compile(r"(?i)\b(?:i'?m|i am)\s+(?:sorry|unable|not able)\b"
               r"|\bi\s+(?:can'?t|cannot)\s+(?:help|assist)\b|\bas an ai\b"),
    re.compile(r"(?i)^\s*(?:theme|tone|rules|brands|items|sentiment|kind)\s*:"),
)  # fmt: skip


def _plain(title: str) -> str:
    """The title without personalization placeholders."""
    return PLACEHOLDER_RE.sub(" ", title)


def visible_length(title: str, ctx: CheckContext) -> int:
    """Characters a reader sees: NFC code points, an allowed token as ``token_length``."""

    def fill(m: re.Match[str]) -> str:
        return "x" * ctx.token_length if m.group(1) in ctx.allowed_tokens else m.group(0)

    return len(unicodedata.normalize("NFC", PLACEHOLDER_RE.sub(fill, title)))


@check("form.empty")
def empty(title: str, ctx: CheckContext) -> str | None:
    letters = sum(ch.isalpha() for ch in _plain(title))
    return "the title has fewer than 3 letters" if letters < 3 else None


@check("form.one_line")
def one_line(title: str, ctx: CheckContext) -> str | None:
    if any(ch in LINE_BREAKS for ch in title):
        return "the title spans more than one line"
    return None


@check("form.length")
def length(title: str, ctx: CheckContext) -> str | None:
    n = visible_length(title, ctx)
    if n > ctx.char_budget:
        return f"{n} characters, over the budget of {ctx.char_budget}"
    return None


@check("form.whitespace")
def whitespace(title: str, ctx: CheckContext) -> str | None:
    if title != title.strip():
        return "leading or trailing whitespace"
    if "  " in title or "\t" in title:
        return "repeated spaces or a tab"
    odd = {ch for ch in title if unicodedata.category(ch) == "Zs" and ch != " "}
    if odd:
        return "unusual space character " + ", ".join(f"U+{ord(c):04X}" for c in sorted(odd))
    return None


@check("form.truncated")
def truncated(title: str, ctx: CheckContext) -> str | None:
    text = _plain(title).rstrip()
    if text.endswith(("...", "…")):
        return "ends with an ellipsis"
    if text and text[-1] in "-–—,:;/&+(\\":
        return f"ends with {text[-1]!r}"
    for open_, close in (("(", ")"), ("[", "]"), ("{", "}"), ("“", "”")):
        if text.count(open_) > text.count(close):
            return f"unclosed {open_!r}"
    if text.count('"') % 2:
        return "unclosed '\"'"
    if PLACEHOLDER_RE.search(title.rstrip()[-30:]) and title.rstrip().endswith("}"):
        return None
    toks = words(text)
    if not toks:
        return None
    last = toks[-1]
    if len(toks) >= 2 and toks[-2] in ("are", "is", "be") and last in ("in", "on", "out", "up"):
        return None  # "your picks are in"
    if len(toks) >= 3 and toks[-3] == "to" and last in _STRANDABLE:
        return None  # "snacks for you to choose from", "toys to play with"
    if len(toks) >= 2 and (toks[-2], last) in _IDIOM_ENDS:
        return None  # "comedies for a night in"
    if len(toks) >= 2 and toks[-2] in DETERMINERS and last in OPEN_ADJECTIVES:
        return f"ends with {toks[-2]} {last!r}, a noun is missing"
    if last in DANGLING_END:
        return f"ends with the dangling word {last!r}"
    # A rare dictionary word that begins an item word is a cut-off name ("Dermal" for
    # "Dermaleaf"); it only passes as the start of a common word when it is a word.
    if (
        last.isalpha()
        and len(last) >= 2
        and not is_english(last, common_only=True)
        and last not in ctx.data_words
        and (
            any(w.startswith(last) for w in ctx.data_words)
            or (last in english_prefixes() and not is_english(last))
        )
    ):
        return f"last word {last!r} looks cut off"
    return None


@check("form.url")
def url(title: str, ctx: CheckContext) -> str | None:
    m = URL_RE.search(canonical(title))
    return f"contains a link: {m.group(0)!r}" if m else None


@check("form.markup")
def markup(title: str, ctx: CheckContext) -> str | None:
    for pattern, what in MARKUP_RES:
        m = pattern.search(title)
        if m:
            return f"{what}: {m.group(0).strip()!r}"
    stripped = title.strip()
    if len(stripped) >= 2 and QUOTE_PAIRS.get(stripped[0]) == stripped[-1]:
        return "wrapped in quotes"
    return None


@check("form.meta")
def meta(title: str, ctx: CheckContext) -> str | None:
    for pattern in META_RES:
        m = pattern.search(title)
        if m:
            return f"assistant chatter, not a subject line: {m.group(0).strip()!r}"
    return None


@check("form.control_chars")
def control_chars(title: str, ctx: CheckContext) -> str | None:
    found: list[str] = []
    marks = 0
    for i, ch in enumerate(title):
        cat = unicodedata.category(ch)
        if ch in LINE_BREAKS:
            continue
        if cat in ("Cc", "Cs", "Co", "Cn"):
            found.append(f"control U+{ord(ch):04X}")
        elif cat == "Cf":
            between_emoji = (
                ch == "\u200d" and 0 < i < len(title) - 1 and emoji_count(title[i - 1 : i + 2]) > 0
            )
            if not between_emoji:
                kind = "bidirectional override" if _is_bidi(ch) else "invisible character"
                found.append(f"{kind} U+{ord(ch):04X}")
        marks = marks + 1 if unicodedata.combining(ch) else 0
        if marks > 2:
            found.append("stacked combining marks")
            marks = 0
    return "; ".join(dict.fromkeys(found)) if found else None


def _is_bidi(ch: str) -> bool:
    return 0x202A <= ord(ch) <= 0x202E or 0x2066 <= ord(ch) <= 0x2069 or ch in "\u200e\u200f\u061c"


@check("form.mixed_script")
def mixed_script(title: str, ctx: CheckContext) -> str | None:
    for tok in tokens(nfkc(title)):
        scripts = {script_of(ch) for ch in tok.text} - {""}
        if len(scripts) > 1 and "LATIN" in scripts:
            return f"{tok.text!r} mixes Latin with {'/'.join(sorted(scripts - {'LATIN'}))} letters"
        if ctx.lang == "en" and scripts & {"CYRILLIC", "GREEK"}:
            folded = fold_confusables(tok.text)
            if folded.isascii() and folded.isalpha():
                return f"{tok.text!r} is written with look-alike letters ({folded!r})"
    return None


@check("form.caps")
def caps(title: str, ctx: CheckContext) -> str | None:
    loud = [
        t.text
        for t in tokens(nfkc(_plain(title)))
        if t.text.isupper()
        and sum(ch.isalpha() for ch in t.text) >= 3
        and t.text not in ACRONYMS
        and t.text not in ctx.raw_data_tokens
    ]
    if loud:
        return "shouting in capitals: " + ", ".join(repr(w) for w in loud[:3])
    letters = [ch for ch in _plain(title) if ch.isalpha()]
    upper = sum(ch.isupper() for ch in letters)
    if len(letters) >= 10 and upper / len(letters) > 0.6:
        return f"{upper} of {len(letters)} letters are capitals"
    return None


_PUNCT_RUN = re.compile(r"([!?$€£*#%@&~^=+_|,;:\-])\1+|[!?]{2,}|\.{4,}|(?<!\.)\.\.(?!\.)")


@check("form.punctuation")
def punctuation(title: str, ctx: CheckContext) -> str | None:
    m = _PUNCT_RUN.search(title)
    if m:
        return f"run of punctuation {m.group(0)!r}"
    if title.count("!") > 1:
        return f"{title.count('!')} exclamation marks"
    return None


@check("form.emoji")
def emoji(title: str, ctx: CheckContext) -> str | None:
    n = emoji_count(title)
    limit = {"forbid": 0, "limit": ctx.max_emoji, "allow": None}[ctx.emoji_policy]
    if limit is not None and n > limit:
        return f"{n} emoji, the policy ({ctx.emoji_policy}) allows {limit}"
    return None


_SMALL_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "at",
        "by",
        "your",
        "you",
        "our",
    ]
)


@check("form.repetition")
def repetition(title: str, ctx: CheckContext) -> str | None:
    toks = [w for w in words(_plain(title))]
    for a, b in itertools.pairwise(toks):
        if a == b and not a.isdigit():
            return f"word repeated: '{a} {b}'"
    for w, n in Counter(toks).items():
        if n >= (4 if w in _SMALL_WORDS else 3):
            return f"{w!r} appears {n} times"
    for n in (4, 3, 2):
        grams = [" ".join(toks[i : i + n]) for i in range(len(toks) - n + 1)]
        repeated = [g for g, c in Counter(grams).items() if c > 1]
        if repeated:
            return f"phrase repeated: {repeated[0]!r}"
    m = re.search(r"([a-z]{2,5})\1{2,}", canonical(title).replace(" ", ""))
    if m:
        return f"character loop {m.group(0)!r}"
    return None


@check("form.language")
def language(title: str, ctx: CheckContext) -> str | None:
    """English only for now: other languages pass (documented limit)."""
    if ctx.lang != "en":
        return None
    raw = tokens(nfkc(_plain(title)))
    foreign_script = [
        t.text
        for t in raw
        if sum(script_of(ch) not in ("LATIN", "") for ch in t.text) > len(t.text) / 2
        and not fold_confusables(t.text).isascii()
        and canonical(t.text) not in ctx.data_words
    ]
    if foreign_script:
        return f"not English: {', '.join(repr(w) for w in foreign_script[:3])}"
    judged = [
        w
        for w in words(_plain(title))
        if w.isalpha() and len(w) >= 2 and w not in ctx.data_words and w not in ctx.brand_words
    ]
    foreign = [w for w in judged if w in FOREIGN_STOPWORDS]
    if len(foreign) >= 2:
        return f"looks like another language: {', '.join(repr(w) for w in foreign[:3])}"
    # A common word counts whole, a word only the big dictionary knows counts half: the
    # dictionary also holds loanwords ("para", "correr"), and a Spanish title must not
    # pass on them.
    english = sum(1.0 if is_english(w, common_only=True) else 0.5 * is_english(w) for w in judged)
    if len(judged) >= 2 and (english == 0 or (len(judged) >= 3 and english / len(judged) < 0.5)):
        return f"only {english:g} of {len(judged)} words are English"
    return None
