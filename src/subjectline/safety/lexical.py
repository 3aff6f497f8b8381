"""Profanity and spam-trigger checks: word lists matched after de-obfuscation.

Profanity uses better-profanity's maintained word list and its leetspeak idea, with our
own normalisation in front (NFKC, accents, Cyrillic/Greek look-alikes, spaced-out and
stretched letters) and an O(words) matcher: the library's own ``censor`` takes ~18 ms a
title, too slow for thousands of candidates. Whole-word matching avoids the Scunthorpe
problem for most words; a short list of unambiguous roots is also found inside longer
words, with an allowlist for the places and words that contain them (Scunthorpe, Cockburn,
cocktail).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from better_profanity.utils import get_complete_path_of_file, read_wordlist

from subjectline.safety.context import CheckContext, Reason
from subjectline.safety.registry import check
from subjectline.safety.text import (
    LEET_TOKEN_RE,
    canonical,
    collapse_repeats,
    deleet_variants,
    join_spaced_letters,
    read_list,
)

_SEPARATORS = re.compile(r"[-._\s]")
_EDGE_PUNCT = "!?.|,;:()"


@dataclass(frozen=True)
class _ProfanityLists:
    words: frozenset[str]
    phrases: frozenset[tuple[str, ...]]
    roots: tuple[str, ...]
    allow: frozenset[str]
    allow_prefixes: tuple[str, ...]
    # Product phrases whose words, joined, are on the list ("nut butter" -> "nutbutter"):
    # exempt from the joined reading only when written as separate words.
    allow_phrases: frozenset[tuple[str, ...]]

    def allowed(self, word: str) -> bool:
        return word in self.allow or word.startswith(self.allow_prefixes)


@cache
def profanity_lists() -> _ProfanityLists:
    library = [
        w.lower() for w in read_wordlist(get_complete_path_of_file("profanity_wordlist.txt"))
    ]
    allow = read_list("profanity_allowlist.txt")
    allow_phrases = frozenset(tuple(a.lower().split()) for a in allow if " " in a)
    allow = [a for a in allow if " " not in a]
    exact = frozenset(a.lower() for a in allow if not a.endswith("*"))
    prefixes = tuple(a[:-1].lower() for a in allow if a.endswith("*"))
    single: set[str] = set()
    phrases: set[tuple[str, ...]] = set()
    for entry in [*library, *read_list("profanity_extra.txt")]:
        parts = entry.split()
        if len(parts) > 1:
            phrases.add(tuple(parts))
            single.add("".join(parts))
            continue
        flat = _SEPARATORS.sub("", entry)
        single.add(flat)
        single.update(deleet_variants(flat)[:1])
    return _ProfanityLists(
        words=frozenset(w for w in single if w not in exact),
        phrases=frozenset(phrases),
        roots=tuple(read_list("profanity_roots.txt")),
        allow=exact,
        allow_prefixes=prefixes,
        allow_phrases=allow_phrases,
    )


def _clean_token(raw: str) -> str:
    return raw.strip(_EDGE_PUNCT)


def _readings(token: str) -> list[str]:
    """Every plain reading of an obfuscated token: de-leeted, stretched letters shrunk."""
    out: list[str] = []
    for v in deleet_variants(token):
        for r in (v, collapse_repeats(v, 1), collapse_repeats(v, 2)):
            if r not in out:
                out.append(r)
    return out


def _star_match(token: str, vocabulary: frozenset[str]) -> str | None:
    """``f*ck`` / ``sh**`` : a star stands for any one letter."""
    if "*" not in token or not token.replace("*", "").isalpha():
        return None
    pattern = re.compile(re.escape(token).replace(r"\*", "[a-z]"))
    return next(
        (w for w in sorted(vocabulary) if len(w) == len(token) and pattern.fullmatch(w)), None
    )


@lru_cache(maxsize=65536)
def find_profanity(
    title: str, deny: tuple[str, ...] = (), allow: tuple[str, ...] = ()
) -> list[tuple[str, str]]:
    """``(as written, as read)`` for each profane or denied word in ``title``."""
    lists = profanity_lists()
    extra_allow = {canonical(a) for a in allow}
    deny_words = {canonical(d) for d in deny if " " not in d.strip()}
    deny_phrases = [canonical(d).split() for d in deny if " " in d.strip()]
    vocabulary = lists.words | deny_words
    hits: list[tuple[str, str]] = []
    base = canonical(title)
    for text in dict.fromkeys((base, join_spaced_letters(base))):
        raw_tokens = [_clean_token(m.group(0)) for m in LEET_TOKEN_RE.finditer(text)]
        plain = [t for t in raw_tokens if t]
        for tok in plain:
            if tok in extra_allow or lists.allowed(tok):
                continue
            for reading in _readings(tok):
                if reading in extra_allow or lists.allowed(reading):
                    break
                if reading in vocabulary:
                    hits.append((tok, reading))
                    break
                root = next((r for r in lists.roots if r in reading), None)
                if root is not None:
                    hits.append((tok, root))
                    break
            else:
                star = _star_match(tok, vocabulary)
                if star:
                    hits.append((tok, star))
        words_only = [_readings(t)[0] for t in plain]
        for n in (2, 3):
            for i in range(len(words_only) - n + 1):
                gram = tuple(words_only[i : i + n])
                if gram in lists.phrases or list(gram) in deny_phrases:
                    hits.append((" ".join(plain[i : i + n]), " ".join(gram)))
                elif (
                    "".join(gram) in vocabulary
                    and tuple(plain[i : i + n]) not in lists.allow_phrases
                    and not any(lists.allowed(g) for g in gram)
                ):
                    hits.append((" ".join(plain[i : i + n]), "".join(gram)))
    return list(dict.fromkeys(hits))


@check("profanity")
def profanity(title: str, ctx: CheckContext) -> str | None:
    hits = find_profanity(title, tuple(ctx.deny_words), tuple(ctx.allow_words))
    if not hits:
        return None
    shown = [w if w == r else f"{w} (reads as {r})" for w, r in hits[:3]]
    return "offensive or denied words: " + ", ".join(repr(s) for s in shown)


@dataclass(frozen=True)
class SpamCategory:
    name: str
    hard: bool
    weight: float
    pattern: re.Pattern[str]


def _phrase_regex(phrases: list[str]) -> re.Pattern[str]:
    parts = sorted((r"\s+".join(map(re.escape, p.split())) for p in phrases), key=len, reverse=True)
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(parts) + r")(?![a-z0-9])")


@cache
def spam_categories() -> tuple[SpamCategory, ...]:
    """Categories of ``lists/spam_phrases.txt`` with one compiled pattern each."""
    cats: list[SpamCategory] = []
    header: tuple[str, bool, float] | None = None
    phrases: list[str] = []

    def flush() -> None:
        if header is not None and phrases:
            cats.append(SpamCategory(header[0], header[1], header[2], _phrase_regex(phrases)))

    for line in read_list("spam_phrases.txt"):
        m = re.fullmatch(r"\[(\w+)\]\s+(hard|soft)\s+([\d.]+)", line)
        if m:
            flush()
            header, phrases = (m.group(1), m.group(2) == "hard", float(m.group(3))), []
        else:
            phrases.append(canonical(line))
    flush()
    return tuple(cats)


def _spam_text(title: str, allow: tuple[str, ...]) -> str:
    """Canonical text with leetspeak read as letters and stretched letters shrunk."""
    text = canonical(title)
    for phrase in allow:
        text = re.sub(r"(?<![a-z0-9])" + re.escape(canonical(phrase)) + r"(?![a-z0-9])", " ", text)

    def plain(m: re.Match[str]) -> str:
        tok = m.group(0)
        core = tok.strip(_EDGE_PUNCT)
        if not core:
            return tok
        reading = deleet_variants(core)[0]
        return tok.replace(core, collapse_repeats(reading, 2))

    return LEET_TOKEN_RE.sub(plain, text)


@lru_cache(maxsize=65536)
def find_spam(title: str, allow: tuple[str, ...] = ()) -> list[tuple[str, str, bool, float]]:
    """``(category, phrase, hard, weight)`` for each spam phrase in ``title``."""
    masked = canonical(title)
    for phrase in allow:
        masked = re.sub(rf"(?<![a-z0-9]){re.escape(canonical(phrase))}(?![a-z0-9])", " ", masked)
    texts = dict.fromkeys((masked, _spam_text(title, allow)))
    found: dict[tuple[str, str], tuple[str, str, bool, float]] = {}
    for cat in spam_categories():
        for text in texts:
            for m in cat.pattern.finditer(text):
                phrase = " ".join(m.group(0).split())
                found.setdefault((cat.name, phrase), (cat.name, phrase, cat.hard, cat.weight))
    return list(found.values())


@check("spam")
def spam(title: str, ctx: CheckContext) -> Reason | None:
    hits = find_spam(title, tuple(ctx.allow_words))
    if not hits:
        return None
    detail = "spam-trigger words: " + ", ".join(f"{p!r} ({c})" for c, p, _, _ in hits[:4])
    hard = any(h for _, _, h, _ in hits)
    if hard or ctx.spam_policy == "reject":
        return Reason("spam", detail)
    return Reason("spam", detail, blocking=False, penalty=sum(w for *_, w in hits))
