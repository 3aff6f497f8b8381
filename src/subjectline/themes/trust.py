"""Which seller-written values may name a theme.

A brand or attribute value is written by the seller, and a theme label reaches the subject
line of every email of that theme (the template control prints it as it is: "{label} picks
for you"). A value becomes a label only if it looks like a name: a few words of letters,
nothing that impersonates the sender, an account or a transaction (the shared list of
``subjectline.data.untrusted``), no instruction to a model or the reader, no link, address,
phone number or pile of digits, no shouting or spam punctuation.

Self-contained on purpose: the safety stage depends on the theme stage, not the reverse.
The gate (``subjectline.safety``) still checks every subject; this keeps untrusted values
from becoming themes, prompts' labels and template text in the first place.
"""

from __future__ import annotations

import re
from functools import lru_cache

from subjectline.data.untrusted import find_impersonation, plain

MAX_LABEL_CHARS = 40
MAX_LABEL_WORDS = 5
# Words that address a model or ask the reader to act: never in a name.
_INSTRUCTION_RE = re.compile(
    r"(?<![a-z0-9])(?:ignore|disregard|forget|override|bypass|jailbreak|system|prompts?|"
    r"instructions?|assistant|chatgpt|openai|llm|ai|click|tap|reply|respond|write|say|"
    r"print|repeat|output|visit|call|text me|dm|whatsapp|telegram|contact|email|e-mail|"
    r"subject|headline|unsubscribe|"
    # spam words that no brand or colour needs
    r"winner|won|prize|jackpot|giveaway|cash|crypto|bitcoin|casino|viagra|guaranteed|"
    r"urgent|hurry|act now|buy now|order now|limited time|100% free|free iphone|"
    r"selling only|sale|deals?|discount|clearance)(?![a-z0-9])"
)
_LINK_RE = re.compile(
    r"https?:|www\.|@|\b[a-z0-9-]+\.(?:com|net|org|io|ly|co|biz|info|shop|store|xyz|me|app)\b"
    r"|\bdot\s+(?:com|net|org)\b"
)
# Letters (any script), spaces and the punctuation names use: & ' . - , +
_NAME_CHARS_RE = re.compile(r"[^\W_]|[\s&'’.,+-]")
# Very short roots that are never part of a brand or a colour (the safety stage's
# profanity check reads far more; this only keeps the worst out of labels).
_PROFANE_RE = re.compile(r"fuck|shit|cunt|bitch|nigg|whore|slut|twat|wank|porn|dick\b|\bass\b")


@lru_cache(maxsize=65536)
def untrusted_reason(text: str) -> str | None:
    """Why ``text`` may not name a theme, or ``None`` when it may."""
    value = " ".join(text.split())
    if not value:
        return "empty"
    if len(value) > MAX_LABEL_CHARS or len(value.split()) > MAX_LABEL_WORDS:
        return "too long for a name"
    low = plain(value)
    phrase = find_impersonation(low)
    if phrase:
        return f"impersonates the sender, an account or a transaction: {phrase!r}"
    m = _INSTRUCTION_RE.search(low)
    if m:
        return f"carries an instruction or a spam word: {m.group(0)!r}"
    if _LINK_RE.search(low):
        return "carries a link or an address"
    digits = sum(ch.isdigit() for ch in value)
    letters = sum(ch.isalpha() for ch in value)
    if digits > 3 or (digits > 1 and digits > letters):
        return "too many digits for a name"
    if _PROFANE_RE.search(low):
        return "offensive"
    odd = [ch for ch in value if not _NAME_CHARS_RE.fullmatch(ch) and not ch.isdigit()]
    if odd:
        return f"characters a name does not use: {''.join(dict.fromkeys(odd))!r}"
    if not any(ch.isalpha() for ch in value):
        return "no letters"
    words = value.split()
    if len(words) > 1 and any(len(w) >= 4 and w.isalpha() and w.isupper() for w in words):
        return "shouting"
    if _glued(value):
        return "words run together"
    return None


def _glued(text: str) -> bool:
    """Two or more lower-to-upper joins in one word: texts run together ("iPhoneSelling")."""
    return any(len(re.findall(r"[a-z][A-Z]", w)) >= 2 for w in text.split())


def trusted_label(text: str) -> bool:
    """Whether the seller-written ``text`` (a brand, an attribute value) may name a theme."""
    return untrusted_reason(text) is None


@lru_cache(maxsize=65536)
def trusted_text(text: str) -> bool:
    """Whether a longer seller-written text (an item title) may be shown to the generator as
    an example: no impersonation, instruction, spam word, link, profanity or words run
    together. Length and characters are not judged."""
    low = plain(" ".join(text.split()))
    return not (
        find_impersonation(low)
        or _INSTRUCTION_RE.search(low)
        or _LINK_RE.search(low)
        or _PROFANE_RE.search(low)
        or _glued(text)
    )
