"""The named objectives: each maps candidate titles for one theme to floats in [0, 1].

- ``engagement``: predicted click rate (engagement model) relative to the theme's template,
  ``0.5 + 2.5 * (ctr / ctr_template - 1)`` clipped: 0.5 is "as good as the template",
  1.0 is +20% or better, 0.0 is -20% or worse. 0.5 for every title without a model.
- ``sentiment``: VADER compound score mapped from [-1, 1] to [0, 1].
- ``cta``: 1.0 for a fitting call to action (``CTA_WORDS``), 0.4 for none, 0.0 for a pushy
  or spammy one (``PUSHY_PHRASES``, ``SPAM_WORDS``, shouting capitals).
- ``novelty``: 1 - the largest TF-IDF char 2-4-gram cosine similarity to the theme's
  template and to the titles its audience received recently.
- ``diversity``: across the campaign: half (1 - mean cosine similarity to the other themes'
  titles), half distinct-2 (share of the title's word bigrams no other theme's title has).
- ``relevance``: 0.6 x share of the theme label's words in the title + 0.4 if it names a
  detail of the theme's items (brand, product noun, attribute) beyond the label, minus
  0.5 per catalog word that none of the theme's items carries (off-theme claims).
- ``readability``: Flesch reading ease / 100 (textstat), clipped to [0, 1].
- ``quality``: the quality judge's probability that a marketer would send the title
  (``subjectline.safety.quality``), judged against the theme's items; 1.0 without them.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import polars as pl
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from subjectline.data.contract import Item
from subjectline.generate.records import FIRST_NAME_TOKEN
from subjectline.safety import CheckContext
from subjectline.safety.quality import judge_scores
from subjectline.score.text import content_stems, stem, title_features, vocabulary, words
from subjectline.themes.contract import Theme

with warnings.catch_warnings():
    # textstat 0.7.4 imports pkg_resources, which warns on every command's start.
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
    import textstat

OBJECTIVES = (
    "engagement",
    "sentiment",
    "cta",
    "novelty",
    "diversity",
    "relevance",
    "readability",
    "quality",
)
LABEL_WEIGHT = 0.6
DETAIL_WEIGHT = 0.4
OFF_THEME_PENALTY = 0.5
ENGAGEMENT_SLOPE = 2.5


@dataclass(frozen=True)
class ThemeContext:
    """What the scorer knows about one theme: its items' words, its template, history.

    ``item_texts`` are the theme's representative items as text (title, brand, category,
    attributes); ``catalog_vocab`` the stems of the whole catalog, used to spot words that
    name something the email does not contain; ``recent_titles`` what the theme's audience
    received in recent sends.
    """

    theme: Theme
    template: str
    item_texts: tuple[str, ...] = ()
    catalog_vocab: frozenset[str] = frozenset()
    recent_titles: tuple[str, ...] = ()
    items: tuple[Item, ...] = ()

    @property
    def label_stems(self) -> frozenset[str]:
        return frozenset() if self.theme.is_mixed else content_stems(self.theme.label)

    @property
    def item_vocab(self) -> frozenset[str]:
        return vocabulary((*self.item_texts, self.theme.label, *self.theme.brands))


def _plain(titles: Sequence[str]) -> list[str]:
    return [t.replace(FIRST_NAME_TOKEN, "").strip(" ,:") for t in titles]


def _char_tfidf(corpus: Sequence[str]) -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), lowercase=True).fit(corpus)


def sentiment_objective(features: pl.DataFrame) -> np.ndarray:
    return ((features["sentiment"].to_numpy() + 1.0) / 2.0).clip(0.0, 1.0)


def cta_objective(features: pl.DataFrame) -> np.ndarray:
    has = features["has_cta"].to_numpy() > 0
    bad = (features["pushy"].to_numpy() + features["spam_words"].to_numpy()) > 0
    return np.where(bad, 0.0, np.where(has, 1.0, 0.4))


def novelty_objective(titles: Sequence[str], ctx: ThemeContext) -> np.ndarray:
    references = _plain([ctx.template, *ctx.recent_titles])
    plain = _plain(titles)
    vectorizer = _char_tfidf([*plain, *references])
    similarity = cosine_similarity(vectorizer.transform(plain), vectorizer.transform(references))
    return (1.0 - similarity.max(axis=1)).clip(0.0, 1.0)


def diversity_objective(titles: Sequence[str], others: Sequence[str]) -> np.ndarray:
    """Distinctness from the other themes' titles in the same campaign."""
    if not others:
        return np.ones(len(titles))
    plain, other_plain = _plain(titles), _plain(others)
    vectorizer = _char_tfidf([*plain, *other_plain])
    similarity = cosine_similarity(vectorizer.transform(plain), vectorizer.transform(other_plain))
    spread = 1.0 - similarity.mean(axis=1)
    other_bigrams = {bg for t in other_plain for bg in _bigrams(t)}
    distinct = np.array(
        [
            (sum(bg not in other_bigrams for bg in grams) / len(grams)) if grams else 0.0
            for grams in (_bigrams(t) for t in plain)
        ]
    )
    return (0.5 * spread + 0.5 * distinct).clip(0.0, 1.0)


def _bigrams(text: str) -> list[tuple[str, str]]:
    tokens = words(text)
    return list(pairwise(tokens))


def relevance_objective(titles: Sequence[str], ctx: ThemeContext) -> np.ndarray:
    label, items = ctx.label_stems, ctx.item_vocab
    details = items - label
    out = np.empty(len(titles))
    for i, title in enumerate(titles):
        stems = content_stems(title)
        coverage = len(stems & label) / len(label) if label else 0.0
        detail = 1.0 if stems & details else 0.0
        off_theme = len((stems & ctx.catalog_vocab) - items)
        out[i] = LABEL_WEIGHT * coverage + DETAIL_WEIGHT * detail - OFF_THEME_PENALTY * off_theme
    return out.clip(0.0, 1.0)


def readability_objective(titles: Sequence[str]) -> np.ndarray:
    scores = [textstat.flesch_reading_ease(t) if words(t) else 0.0 for t in _plain(titles)]
    return (np.asarray(scores, dtype=np.float64) / 100.0).clip(0.0, 1.0)


def quality_objective(titles: Sequence[str], ctx: ThemeContext) -> np.ndarray:
    if not ctx.items:
        return np.ones(len(titles))
    check_ctx = CheckContext(items=ctx.items, theme=ctx.theme)
    return np.asarray(judge_scores(list(titles), check_ctx), dtype=np.float64)


def engagement_objective(
    predicted_ctr: np.ndarray | None, template_ctr: float | None, n: int
) -> np.ndarray:
    if predicted_ctr is None or not template_ctr:
        return np.full(n, 0.5)
    ratio = np.asarray(predicted_ctr, dtype=np.float64) / template_ctr
    return (0.5 + ENGAGEMENT_SLOPE * (ratio - 1.0)).clip(0.0, 1.0)


def off_theme_words(title: str, ctx: ThemeContext) -> int:
    """How many catalog words in ``title`` none of the theme's items carries."""
    return len((content_stems(title) & ctx.catalog_vocab) - ctx.item_vocab)


def score_objectives(
    titles: Sequence[str],
    ctx: ThemeContext,
    predicted_ctr: np.ndarray | None = None,
    template_ctr: float | None = None,
    campaign_titles: Sequence[str] = (),
) -> pl.DataFrame:
    """Every objective for every title: ``title`` plus one [0, 1] column per objective.

    ``predicted_ctr`` (aligned with ``titles``) and ``template_ctr`` come from the
    engagement model; ``campaign_titles`` are the other themes' titles of the campaign.
    """
    titles = list(titles)
    features = title_features(titles)
    return pl.DataFrame(
        {
            "title": titles,
            "engagement": engagement_objective(predicted_ctr, template_ctr, len(titles)),
            "sentiment": sentiment_objective(features),
            "cta": cta_objective(features),
            "novelty": novelty_objective(titles, ctx),
            "diversity": diversity_objective(titles, campaign_titles),
            "relevance": relevance_objective(titles, ctx),
            "readability": readability_objective(titles),
            "quality": quality_objective(titles, ctx),
        }
    )


__all__ = [
    "OBJECTIVES",
    "ThemeContext",
    "off_theme_words",
    "score_objectives",
    "stem",
]
