"""Personal-data checks: no e-mail, phone, card number, address or name in a title.

Personalization goes in only through the tokens the campaign allows (``{first_name}``),
filled in after the check, so a real name in a candidate is a leak or an invention.
"""

from __future__ import annotations

import re
from functools import cache

from subjectline.safety.context import CheckContext
from subjectline.safety.registry import check
from subjectline.safety.text import PLACEHOLDER_RE, canonical, is_english, nfkc, read_list, tokens

EMAIL_RE = re.compile(
    r"[\w.+-]+\s*(?:@|\(at\)|\[at\]|\sat\s)\s*[\w-]+\s*(?:\.|\(dot\)|\[dot\]|\sdot\s)\s*[a-z]{2,}",
    re.IGNORECASE,
)
PHONE_RE = re.compile(
    r"(?<![\w$£€])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?|\d{2,4}[\s.-])\d{3,4}[\s.-]?\d{3,4}"
    r"(?![\w%])|(?<![\w$£€.,])\d{3}[.-]\d{4}(?![\w%])|(?<![\w$£€])\+\d{9,14}(?!\w)"
)
CARD_RE = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
SSN_RE = re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)")
ADDRESS_RE = re.compile(
    r"\b\d{1,5}\s+(?:[A-Z][a-z]+\s+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|"
    r"Drive|Dr|Court|Ct|Way|Place|Pl)\b\.?"
)
# Merge-tag syntaxes of other tools: {{name}}, [Name], %FNAME%, *|FNAME|*, <name>, ${name}.
FOREIGN_TOKEN_RE = re.compile(
    r"\{\{\s*\w+\s*\}\}|\[\s*(?:first|last|full|user|customer)?[ _]?name\s*\]|%[A-Z_]{3,}%"
    r"|\*\|[A-Z_]+\|\*|\$\{\w+\}|\{\s+\w+\s*\}|\{\w+\s+\}",
    re.IGNORECASE,
)
VOCATIVE_RE = re.compile(r"^(?:(?:hi|hey|hello|dear|yo)\s+)?([A-Z][a-z]+)\s*[,!]")
# Given names that are also everyday words in a subject line ("Summer, sorted").
NAME_WORDS = frozenset({"Summer", "Spring", "Autumn", "Winter", "Sunny", "Joy", "Hope"})


@cache
def first_names() -> frozenset[str]:
    return frozenset(n for line in read_list("first_names.txt") for n in line.split())


@check("pii.email")
def email(title: str, ctx: CheckContext) -> str | None:
    m = EMAIL_RE.search(canonical(title))
    return f"e-mail address {m.group(0)!r}" if m else None


@check("pii.phone")
def phone(title: str, ctx: CheckContext) -> str | None:
    m = PHONE_RE.search(nfkc(title))
    if m and sum(ch.isdigit() for ch in m.group(0)) >= 7:
        return f"phone number {m.group(0).strip()!r}"
    return None


def _luhn(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


@check("pii.card")
def card(title: str, ctx: CheckContext) -> str | None:
    text = nfkc(title)
    m = SSN_RE.search(text)
    if m:
        return f"social-security-like number {m.group(0)!r}"
    m = CARD_RE.search(text)
    if m:
        digits = re.sub(r"\D", "", m.group(0))
        kind = "card number" if _luhn(digits) else "card-like number"
        return f"{kind} ({len(digits)} digits)"
    return None


@check("pii.address")
def address(title: str, ctx: CheckContext) -> str | None:
    m = ADDRESS_RE.search(nfkc(title))
    return f"street address {m.group(0)!r}" if m else None


@check("pii.token")
def token(title: str, ctx: CheckContext) -> str | None:
    for m in PLACEHOLDER_RE.finditer(title):
        if m.group(1) not in ctx.allowed_tokens:
            allowed = ", ".join("{" + t + "}" for t in sorted(ctx.allowed_tokens)) or "none"
            return f"personalization token {m.group(0)!r} is not allowed (allowed: {allowed})"
    foreign = FOREIGN_TOKEN_RE.search(title)
    if foreign:
        return f"unsupported placeholder {foreign.group(0)!r}"
    return None


@check("pii.name")
def name(title: str, ctx: CheckContext) -> str | None:
    """A given name from the list, or a capitalised word addressed like a name
    ("Hi Jo,"), that is neither in the items' data nor an ordinary English word."""
    text = PLACEHOLDER_RE.sub("you", nfkc(title))
    names = first_names()
    for tok in tokens(text):
        word = tok.text
        if word not in names or word in NAME_WORDS or word.lower() in ctx.data_words:
            continue
        if not is_english(word):
            return f"personal name {word!r}"
    m = VOCATIVE_RE.match(text)
    if m:
        word = m.group(1)
        if (
            word not in NAME_WORDS
            and word.lower() not in ctx.data_words
            and (word in names or not is_english(word))
        ):
            return f"addresses someone by name: {word!r}"
    return None
