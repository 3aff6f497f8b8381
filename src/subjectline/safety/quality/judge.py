"""The learned sendability judge: a logistic model over a title's sentence embedding and
a few features of how it relates to the email's items.

Trained on judged titles (``quality/data/``, see its data card) by
``python -m subjectline.safety.quality.train``; the weights ship as package data
(``quality/model.json``) and load offline. ``judge_score(title, ctx)`` is the model's
probability that a careful marketer would send the title; ``quality.judge`` rejects
below the threshold chosen on held-out themes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from subjectline.safety.context import CheckContext, Reason
from subjectline.safety.quality.rules import lemma, product_nouns, title_words
from subjectline.safety.registry import check
from subjectline.safety.text import PLACEHOLDER_RE, STOPWORDS, is_english

MODEL_FILE = "model.json"
PLACEHOLDER_NAME = "Alex"
# Connective copy that says nothing about the items and needs no grounding.
SAFE_COPY = frozenset(
    [
        "picked",
        "chosen",
        "for",
        "you",
        "your",
        "might",
        "like",
        "more",
        "from",
        "and",
        "in",
        "our",
        "edit",
        "finds",
        "picks",
        "new",
        "just",
        "next",
        "season",
        "ahead",
        "week",
        "day",
        "days",
        "night",
        "nights",
        "evening",
        "evenings",
        "morning",
        "mornings",
        "routine",
        "home",
        "trip",
        "ride",
        "run",
        "commute",
        "desk",
        "office",
        "room",
        "living",
        "bedroom",
        "kitchen",
        "dinners",
        "cooking",
        "workouts",
        "practice",
        "wear",
        "carry",
        "study",
        "work",
        "life",
        "go",
        "game",
        "rainy",
        "quiet",
        "slow",
        "afternoon",
        "afternoons",
        "cosy",
        "cozy",
        "calm",
        "builders",
        "young",
        "training",
        "race",
        "everyday",
        "daily",
        "colder",
        "busy",
        "snack",
        "time",
        "movie",
        "family",
        "stretch",
        "outdoors",
        "camping",
    ]
)
FEATURES = (
    "words",
    "chars",
    "grounded_share",
    "ungrounded",
    "unknown",
    "safe_copy_share",
    "has_for",
    "for_grounded",
    "commas",
    "exclaims",
    "questions",
    "you_count",
    "label_first",
    "label_is_kind",
    "starts_with_kind",
    "label_for",
    "label_for_not_kind",
)


def _data_lemmas(ctx: CheckContext) -> frozenset[str]:
    return frozenset(lemma(w) for w in ctx.data_words | ctx.brand_words)


def features(title: str, ctx: CheckContext) -> np.ndarray:
    """The hand features of ``title`` in ``ctx`` (see ``FEATURES``)."""
    found = title_words(title)
    lows = [w.lower() for w in found]
    data = _data_lemmas(ctx)
    content = [w for w in lows if w not in STOPWORDS]
    grounded = [w for w in content if lemma(w) in data]
    safe = [w for w in content if w in SAFE_COPY or lemma(w) in SAFE_COPY]
    ungrounded = [w for w in content if lemma(w) not in data and w not in SAFE_COPY]
    unknown = [w for w in ungrounded if w.isalpha() and not is_english(w)]
    after_for = lows[lows.index("for") + 1 :] if "for" in lows else []
    label = ctx.theme.label.lower() if ctx.theme is not None else ""
    label_lemmas = {lemma(w) for w in re.findall(r"[a-z]+", label)}
    first = lemma(lows[0]) if lows else ""
    n = max(1, len(content))
    label_len = len(title_words(label))
    # "Strength for your daily routine": a category that is no product, sold for a purpose.
    label_for = float(
        bool(label)
        and [lemma(w) for w in lows[:label_len]] == [lemma(w.lower()) for w in title_words(label)]
        and lows[label_len : label_len + 1] == ["for"]
    )
    label_is_kind = float(bool(label_lemmas & product_nouns()))
    values = [
        len(lows) / 10,
        len(title) / 60,
        len(grounded) / n,
        len(ungrounded),
        len(unknown),
        len(safe) / n,
        float("for" in lows),
        float(any(lemma(w) in data for w in after_for if w not in STOPWORDS)),
        title.count(","),
        title.count("!"),
        title.count("?"),
        lows.count("you") + lows.count("your"),
        float(bool(label) and title.lower().startswith(label)),
        label_is_kind,
        float(first in product_nouns() or (first in data and first not in label_lemmas)),
        label_for,
        label_for * (1.0 - label_is_kind),
    ]
    return np.asarray(values, dtype=np.float32)


EMBEDDING_FEATURES = ("purpose_items_similarity", "title_items_similarity")


def purpose_of(title: str) -> str:
    """What the title says its items are for: the words after its first "for"."""
    found = title_words(title)
    lows = [w.lower() for w in found]
    if "for" in lows[1:]:
        rest = found[lows.index("for", 1) + 1 :]
        if rest:
            return " ".join(rest)
    return title


def items_text(ctx: CheckContext) -> str:
    """The email's items as one line to embed: their titles, at most eight."""
    return "; ".join(dict.fromkeys(i.title for i in ctx.items[:8])) or (
        ctx.theme.label if ctx.theme is not None else ""
    )


def embedding_inputs(titles: Sequence[str], ctx: CheckContext) -> np.ndarray:
    """How well each title and its purpose fit the items (cosines), and the title's own
    embedding: "for your next ride" sits near bike helmets, far from puzzles."""
    from subjectline.safety.quality.embed import embed

    # The encoder reads "{first_name}" as code; a name reads as the greeting it is.
    titles = [PLACEHOLDER_RE.sub(PLACEHOLDER_NAME, t) for t in titles]
    purposes = [purpose_of(t) for t in titles]
    vectors = embed([*titles, *purposes, items_text(ctx)])
    own, purpose, items = vectors[: len(titles)], vectors[len(titles) : -1], vectors[-1]
    sims = np.stack([purpose @ items, own @ items], axis=1)
    return np.hstack([sims, own])


@dataclass(frozen=True)
class JudgeModel:
    """Standardised features + embedding -> logistic probability of "send"."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    threshold: float
    embedding: bool
    meta: dict[str, object]

    def inputs(self, titles: Sequence[str], ctx: CheckContext) -> np.ndarray:
        feats = np.stack([features(t, ctx) for t in titles]) if titles else np.zeros((0, 0))
        if not self.embedding:
            return feats
        return np.hstack([feats, embedding_inputs(titles, ctx)])

    def score_inputs(self, x: np.ndarray) -> np.ndarray:
        z = ((x - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-z))

    def scores(self, titles: Sequence[str], ctx: CheckContext) -> np.ndarray:
        return self.score_inputs(self.inputs(titles, ctx)) if titles else np.zeros(0)

    def to_dict(self) -> dict[str, object]:
        return {
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "bias": self.bias,
            "threshold": self.threshold,
            "embedding": self.embedding,
            "features": list(FEATURES),
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> JudgeModel:
        if list(data.get("features", [])) != list(FEATURES):  # type: ignore[call-overload]
            raise ValueError("quality model was trained on other features; retrain it")
        return cls(
            mean=np.asarray(data["mean"], dtype=np.float32),
            scale=np.asarray(data["scale"], dtype=np.float32),
            weights=np.asarray(data["weights"], dtype=np.float32),
            bias=float(data["bias"]),  # type: ignore[arg-type]
            threshold=float(data["threshold"]),  # type: ignore[arg-type]
            embedding=bool(data["embedding"]),
            meta=dict(data.get("meta") or {}),  # type: ignore[call-overload]
        )


@cache
def load_model() -> JudgeModel | None:
    """The shipped model (None before the first training)."""
    path = resources.files("subjectline.safety.quality") / MODEL_FILE
    if not path.is_file():
        return None
    return JudgeModel.from_dict(json.loads(path.read_text(encoding="utf-8")))


def judge_scores(titles: Sequence[str], ctx: CheckContext) -> list[float]:
    """The judge's probability that each title is sendable in ``ctx`` (1.0 untrained)."""
    model = load_model()
    if model is None:
        return [1.0] * len(titles)
    # Kept on the context (as its cached properties are): a title is judged once per email.
    scores: dict[str, float] = ctx.__dict__.setdefault("_judge_scores", {})
    missing = [t for t in dict.fromkeys(titles) if t not in scores]
    if missing:
        for text, value in zip(missing, model.scores(missing, ctx), strict=True):
            scores[text] = float(value)
    return [scores[t] for t in titles]


def judge_score(title: str, ctx: CheckContext) -> float:
    return judge_scores([title], ctx)[0]


def _is_house_template(title: str, ctx: CheckContext) -> bool:
    """The classic control's and the fallback chain's fixed titles: copy the shop wrote
    and reviewed, not model output. Judging them would make the fallback itself fail an
    email whose items the judge happens to score low ("Top picks in Electronics")."""
    # Imported here: the guard imports this module to register the check.
    from subjectline.generate.template import template_titles
    from subjectline.safety.guard import GENERIC_TEMPLATES, theme_templates

    if title in GENERIC_TEMPLATES:
        return True
    theme = ctx.theme
    return theme is not None and (
        title in template_titles(theme) or title in theme_templates(theme)
    )


@check("quality.judge")
def judged_unsendable(title: str, ctx: CheckContext) -> Reason | None:
    """The learned judge finds the title unlikely to be sent (what no rule can tell:
    "Strength for your daily routine", "Headphones for your nightcap")."""
    model = load_model()
    if model is None or _is_house_template(title, ctx):
        return None
    score = judge_score(title, ctx)
    if score >= model.threshold:
        return None
    return Reason("quality.judge", f"judge score {score:.2f} is below {model.threshold:.2f}")
