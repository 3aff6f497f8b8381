"""The simulated users' response model: how a title, a theme and a user make an outcome.

Every effect is an additive term on the log-odds of one stage (open; click given open;
convert given click; unsubscribe given delivery). Effect sizes and their sources are in
docs/simulator.md; they are deliberately modest. Nothing here knows which backend wrote
a title: a title is judged only by what it says about the email's items and how it says
it, so a vague or off-theme LLM title does worse than a specific template.

The simulator (and only it) reads the marketplace's hidden ground truth: the user's
latent relevance for the email's items comes from ``preferences``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from subjectline.generate.records import FIRST_NAME_TOKEN
from subjectline.score.text import STOPWORDS, stem

_WORD = re.compile(r"[a-z0-9]+")
# The world's own lexicons (kept apart from the scorer's so that reranking cannot read the
# response model): spam-filter triggers and pressure phrases, and action verbs.
SPAM_TRIGGERS = frozenset(
    [
        "free",
        "guarantee",
        "guaranteed",
        "winner",
        "cash",
        "prize",
        "cheap",
        "bonus",
        "urgent",
        "miracle",
    ]
)
PRESSURE = ("buy now", "act now", "order now", "hurry", "last chance", "click here", "!!")
ACTION_VERBS = frozenset(
    ["shop", "discover", "explore", "browse", "see", "find", "meet", "try", "grab", "get"]
)
MOBILE_PREVIEW_CHARS = 50


@dataclass(frozen=True)
class ResponseModel:
    """Base rates and effect sizes (log-odds unless named otherwise); see docs/simulator.md."""

    # Base rates: the open-rate mean comes from each user's open_propensity (Beta(2.5, 7.5),
    # mean 0.25); clicks given open 10%, conversions given click 4%, unsubscribes 0.2%.
    click_given_open: float = 0.10
    convert_given_click: float = 0.04
    unsubscribe: float = 0.002
    # Users: lapsed users open less; each send in the last week beyond one tires users.
    lapsed_days: float = 45.0
    lapsed_open: float = -0.40
    fatigue_open: float = -0.08
    fatigue_unsub: float = 0.25
    # Relevance of the email's items to the user (latent, in [0, 1]), centred on its mean.
    relevance_center: float = 0.60
    relevance_click: float = 2.00
    relevance_convert: float = 1.20
    relevance_unsub: float = -1.00
    # Title: a specific title signals relevance (helps relevant users, warns the others).
    specificity_open: float = 0.10
    specificity_x_relevance_open: float = 0.50
    personalization_open: float = 0.18
    personalization_unsub: float = -0.19
    sentiment_open: float = 0.06
    long_title_open_per_10_chars: float = -0.03
    broken_open: float = -0.15
    spam_open: float = -0.25
    spam_unsub: float = 0.30
    pressure_click: float = -0.15
    action_click: float = 0.08
    off_theme_click: float = -0.40
    off_theme_unsub: float = 0.20
    max_off_theme: int = 2

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class TitleTraits:
    """What the world reads off each title (arrays aligned with the titles)."""

    specificity: np.ndarray
    off_theme: np.ndarray
    personalized: np.ndarray
    sentiment: np.ndarray
    excess_chars: np.ndarray
    broken: np.ndarray
    spam: np.ndarray
    pressure: np.ndarray
    action: np.ndarray

    def take(self, index: np.ndarray) -> TitleTraits:
        return TitleTraits(**{k: v[index] for k, v in self.__dict__.items()})


def _stems(text: str) -> set[str]:
    """Content-word stems (tokenization is shared with the scorer; the effects are not)."""
    return {
        stem(w)
        for w in _WORD.findall(text.replace(FIRST_NAME_TOKEN, " ").lower())
        if w not in STOPWORDS and len(w) > 1
    }


_analyzer: SentimentIntensityAnalyzer | None = None


def _sentiment(text: str) -> float:
    global _analyzer
    if _analyzer is None:
        _analyzer = SentimentIntensityAnalyzer()
    return float(_analyzer.polarity_scores(text.replace(FIRST_NAME_TOKEN, ""))["compound"])


def title_traits(
    titles: Sequence[str],
    label: str,
    item_texts: Sequence[str],
    catalog_texts: frozenset[str],
    mixed: bool = False,
) -> TitleTraits:
    """Traits of each title for one theme.

    Specificity: 0.6 x share of the theme label's words named + 0.4 if the title names a
    detail of the email's items beyond the label. Off-theme: catalog words the email's
    items do not carry (naming what is not inside), capped.
    """
    label_stems = set() if mixed else _stems(label)
    item_stems: set[str] = set(label_stems)
    for text in item_texts:
        item_stems |= _stems(text)
    details = item_stems - label_stems
    n = len(titles)
    traits = {k: np.zeros(n) for k in TitleTraits.__dataclass_fields__}
    for i, title in enumerate(titles):
        stems = _stems(title)
        lowered = title.lower()
        coverage = len(stems & label_stems) / len(label_stems) if label_stems else 0.0
        traits["specificity"][i] = 0.6 * coverage + 0.4 * bool(stems & details)
        traits["off_theme"][i] = len((stems & catalog_texts) - item_stems)
        traits["personalized"][i] = FIRST_NAME_TOKEN in title
        traits["sentiment"][i] = _sentiment(title)
        shown = len(title.replace(FIRST_NAME_TOKEN, "Name"))
        traits["excess_chars"][i] = max(0, shown - MOBILE_PREVIEW_CHARS)
        tokens = _WORD.findall(lowered)
        traits["broken"][i] = bool(tokens) and (
            tokens[-1] in {"a", "an", "and", "the", "to", "of", "with", "for", "in", "or"}
            or max(tokens.count(t) for t in tokens) >= 3
        )
        caps = sum(1 for w in re.findall(r"[A-Za-z]{4,}", title) if w.isupper())
        traits["spam"][i] = sum(t in SPAM_TRIGGERS for t in tokens) + caps
        traits["pressure"][i] = sum(p in lowered for p in PRESSURE)
        traits["action"][i] = any(t in ACTION_VERBS for t in tokens)
    return TitleTraits(**traits)


def _logit(p: float | np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class Probabilities:
    open: np.ndarray
    click_given_open: np.ndarray
    convert_given_click: np.ndarray
    unsubscribe: np.ndarray

    @property
    def click(self) -> np.ndarray:
        return self.open * self.click_given_open


def probabilities(
    model: ResponseModel,
    open_propensity: np.ndarray,
    days_since_active: np.ndarray,
    recent_sends: np.ndarray,
    relevance: np.ndarray,
    traits: TitleTraits,
) -> Probabilities:
    """Stage probabilities for each (user, title) pair; arrays aligned per user."""
    m = model
    rel = relevance - m.relevance_center
    fatigue = np.maximum(recent_sends - 1, 0)
    off = np.minimum(traits.off_theme, m.max_off_theme)
    spam = np.minimum(traits.spam, 2)
    open_logit = (
        _logit(open_propensity)
        + m.lapsed_open * (days_since_active > m.lapsed_days)
        + m.fatigue_open * fatigue
        + m.specificity_open * traits.specificity
        + m.specificity_x_relevance_open * traits.specificity * rel
        + m.personalization_open * traits.personalized
        + m.sentiment_open * traits.sentiment
        + m.long_title_open_per_10_chars * traits.excess_chars / 10.0
        + m.broken_open * traits.broken
        + m.spam_open * spam
    )
    click_logit = (
        _logit(m.click_given_open)
        + m.relevance_click * rel
        + m.pressure_click * np.minimum(traits.pressure, 2)
        + m.action_click * traits.action
        + m.off_theme_click * off
    )
    convert_logit = _logit(m.convert_given_click) + m.relevance_convert * rel
    unsub_logit = (
        _logit(m.unsubscribe)
        + m.fatigue_unsub * fatigue
        + m.relevance_unsub * rel
        + m.personalization_unsub * traits.personalized
        + m.spam_unsub * spam
        + m.off_theme_unsub * off
    )
    return Probabilities(
        open=_sigmoid(open_logit),
        click_given_open=_sigmoid(click_logit),
        convert_given_click=_sigmoid(convert_logit),
        unsubscribe=_sigmoid(unsub_logit),
    )
