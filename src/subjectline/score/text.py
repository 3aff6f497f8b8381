"""What the scoring stage can read off a title: tokens, lexicons and vectorised features.

The lexicons are small and explicit on purpose (a data scientist can read and edit them):
``CTA_WORDS`` are calls to action that fit a marketing email, ``PUSHY_PHRASES`` are
pressure tactics, ``SPAM_WORDS`` are classic spam-filter triggers (HubSpot/Mailchimp lists).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import polars as pl

from subjectline.generate.records import FIRST_NAME_TOKEN

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "that",
        "the",
        "their",
        "this",
        "to",
        "too",
        "up",
        "we",
        "with",
        "you",
        "your",
        "yours",
        "new",
        "top",
        "picks",
        "pick",
        "just",
    ]
)
CTA_WORDS = frozenset(
    [
        "shop",
        "discover",
        "explore",
        "browse",
        "see",
        "find",
        "meet",
        "try",
        "grab",
        "get",
        "treat",
        "upgrade",
        "refresh",
        "save",
        "unwrap",
        "check",
    ]
)
PUSHY_PHRASES = (
    "buy now",
    "act now",
    "order now",
    "hurry",
    "don't miss",
    "last chance",
    "click here",
    "limited time",
    "urgent",
    "before it's gone",
)
SPAM_WORDS = frozenset(
    [
        "free",
        "guarantee",
        "guaranteed",
        "winner",
        "cash",
        "prize",
        "cheap",
        "risk-free",
        "bonus",
        "urgent",
        "credit",
        "deal$",
        "$$$",
        "100%",
        "miracle",
    ]
)
# Words that end a sentence badly: a cut-off title reads as broken.
DANGLING = frozenset(
    [
        "a",
        "an",
        "and",
        "the",
        "to",
        "of",
        "with",
        "for",
        "in",
        "on",
        "or",
        "at",
        "by",
        "from",
        "your",
        "our",
        "this",
        "is",
    ]
)


def words(text: str) -> list[str]:
    """Lower-case word tokens (the personalization token removed)."""
    return _WORD.findall(text.replace(FIRST_NAME_TOKEN, " ").lower())


def stem(word: str) -> str:
    """A crude plural/possessive stem, enough to match "shoes" with "shoe"."""
    word = word.removesuffix("'s")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def content_stems(text: str) -> frozenset[str]:
    """Stems of the words that carry meaning (stopwords dropped)."""
    return frozenset(stem(w) for w in words(text) if w not in STOPWORDS and len(w) > 1)


def vocabulary(texts: Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for text in texts:
        out |= content_stems(text)
    return frozenset(out)


@lru_cache(maxsize=1)
def _vader() -> object:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def sentiment(titles: Sequence[str]) -> np.ndarray:
    """VADER compound score of each title, in [-1, 1]."""
    analyzer = _vader()
    scores = [
        analyzer.polarity_scores(t.replace(FIRST_NAME_TOKEN, ""))["compound"]  # type: ignore[attr-defined]
        for t in titles
    ]
    return np.asarray(scores, dtype=np.float64)


def _has_cta(tokens: list[str]) -> bool:
    return any(t in CTA_WORDS for t in tokens)


def _pushy(text: str) -> int:
    lowered = text.lower()
    return sum(phrase in lowered for phrase in PUSHY_PHRASES) + int("!!" in text)


def _spam(text: str, tokens: list[str]) -> int:
    caps = sum(1 for w in re.findall(r"[A-Za-z]{4,}", text) if w.isupper())
    return sum(t in SPAM_WORDS for t in tokens) + int("$$" in text) + caps


def title_features(titles: Sequence[str]) -> pl.DataFrame:
    """One row of surface features per title, in order (no theme needed).

    ``n_chars`` counts a ``{first_name}`` token as a 6-letter name; ``broken`` flags a
    title that ends on a dangling word or repeats a word three times (sampling drift).
    """
    rows = []
    for title in titles:
        tokens = words(title)
        plain = title.replace(FIRST_NAME_TOKEN, "Name")
        counts: dict[str, int] = {}
        for t in tokens:
            counts[t] = counts.get(t, 0) + 1
        rows.append(
            (
                len(plain),
                len(tokens),
                int(_has_cta(tokens)),
                _pushy(title),
                _spam(title, tokens),
                int(FIRST_NAME_TOKEN in title),
                int(any(ch.isdigit() for ch in title)),
                title.count("!"),
                int(title.rstrip().endswith("?")),
                int(
                    (bool(tokens) and tokens[-1] in DANGLING)
                    or max(counts.values(), default=0) >= 3
                ),
            )
        )
    frame = pl.DataFrame(
        rows,
        schema={
            "n_chars": pl.Int64,
            "n_words": pl.Int64,
            "has_cta": pl.Int64,
            "pushy": pl.Int64,
            "spam_words": pl.Int64,
            "personalized": pl.Int64,
            "has_number": pl.Int64,
            "exclamations": pl.Int64,
            "question": pl.Int64,
            "broken": pl.Int64,
        },
        orient="row",
    )
    return frame.with_columns(pl.Series("sentiment", sentiment(titles)))
