"""What a check sees: the email's items, promotions and theme, the time, and the policy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, cached_property
from typing import Any, Literal

from subjectline.data.contract import Item, Promotion
from subjectline.safety.text import (
    STOPWORDS,
    canonical,
    known_names,
    nfkc,
    stem_keys,
    tokens,
    words,
)
from subjectline.themes import Theme

EmojiPolicy = Literal["forbid", "limit", "allow"]
SpamPolicy = Literal["reject", "penalise"]


@dataclass(frozen=True)
class Reason:
    """Why a check did not pass. ``blocking=False`` marks a penalty, not a rejection."""

    check: str
    detail: str
    blocking: bool = True
    penalty: float = 0.0

    def to_dict(self) -> dict[str, str]:
        return {"check": self.check, "detail": self.detail}


@dataclass(frozen=True)
class CheckResult:
    """``ok`` unless a blocking reason exists; ``reasons`` holds every blocking reason,
    ``warnings`` the penalised ones whose weights add up to ``penalty``."""

    ok: bool
    reasons: list[Reason]
    penalty: float = 0.0
    warnings: list[Reason] = field(default_factory=list)

    @property
    def checks(self) -> list[str]:
        return [r.check for r in self.reasons]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "reasons": [r.to_dict() for r in self.reasons],
            "penalty": self.penalty,
            "warnings": [r.to_dict() for r in self.warnings],
        }


@dataclass(frozen=True, eq=False)
class CheckContext:
    """One email's facts and the campaign's safety policy.

    ``allowed_tokens`` are personalization tokens (``{first_name}``) the campaign fills in
    after the check; each counts as ``token_length`` characters against ``char_budget``.
    ``deny_words`` extend the profanity list; ``allow_words`` exempt words from the
    profanity and spam lists. ``known_brands`` are the catalog's brands (a title may name
    only the email's own); ``catalog_words`` the lower-case words of the catalog's category
    names (a title may use only those its email's items carry). ``new_within_days`` is how
    recent an item must be for "new" (None: do not check); ``urgency_hours`` how soon a
    promotion must end for "last chance".
    """

    items: Sequence[Item] = ()
    promotions: Sequence[Promotion] = ()
    theme: Theme | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    char_budget: int = 60
    language: str = "en"
    allowed_tokens: frozenset[str] = frozenset({"first_name"})
    token_length: int = 12
    emoji_policy: EmojiPolicy = "limit"
    max_emoji: int = 1
    deny_words: tuple[str, ...] = ()
    allow_words: tuple[str, ...] = ()
    spam_policy: SpamPolicy = "reject"
    known_brands: tuple[str, ...] = ()
    catalog_words: frozenset[str] = frozenset()
    new_within_days: int | None = 90
    urgency_hours: float = 72.0
    skip_checks: frozenset[str] = frozenset()

    @property
    def at(self) -> datetime:
        return self.now if self.now.tzinfo else self.now.replace(tzinfo=UTC)

    @property
    def lang(self) -> str:
        """``en-US`` / ``en_GB`` -> ``en``."""
        return self.language.replace("_", "-").split("-", 1)[0].lower()

    @cached_property
    def active_promotions(self) -> list[Promotion]:
        """Active promotions that apply to at least one of the email's items."""
        return [
            p
            for p in self.promotions
            if p.is_active(self.at) and any(p.applies_to(i) for i in self.items)
        ]

    def best_discount(self, item: Item) -> float:
        return max(
            (p.discount_pct for p in self.active_promotions if p.applies_to(item)), default=0.0
        )

    @cached_property
    def effective_prices(self) -> list[tuple[Item, float]]:
        """Each item with its price after the best active promotion for it."""
        return [(i, i.price * (1 - self.best_discount(i) / 100)) for i in self.items]

    @cached_property
    def item_texts(self) -> list[str]:
        """Canonical text of each item (title, brand, category, attributes)."""
        return [canonical(" | ".join(item_fields(i))) for i in self.items]

    @cached_property
    def item_text(self) -> str:
        return " | ".join(self.item_texts)

    @cached_property
    def theme_text(self) -> str:
        if self.theme is None:
            return ""
        t = self.theme
        parts = [t.label, *t.brands, *t.attributes.values()]
        return canonical(" | ".join(parts))

    @cached_property
    def data_words(self) -> frozenset[str]:
        """Lower-case words the items' data and the theme use: product words, not claims."""
        return frozenset(words(self.item_text) + words(self.theme_text))

    @cached_property
    def data_stems(self) -> frozenset[str]:
        return frozenset(k for w in self.data_words for k in stem_keys(w))

    @cached_property
    def raw_data_tokens(self) -> frozenset[str]:
        """Case-preserved words of the items' data and the theme (``LEGO``, ``ASICS``)."""
        texts = [nfkc(" ".join(item_fields(i))) for i in self.items]
        if self.theme is not None:
            texts.append(nfkc(" ".join([self.theme.label, *self.theme.brands])))
        return frozenset(t.text for text in texts for t in tokens(text))

    @cached_property
    def brand_words(self) -> frozenset[str]:
        """Lower-case words of every known brand and product name (not English words)."""
        return known_name_words() | frozenset(w for b in self.known_brands for w in words(b))

    @cached_property
    def item_brands(self) -> set[str]:
        return {brand_key(i.brand) for i in self.items if i.brand}

    @cached_property
    def item_title_stems(self) -> set[str]:
        """Stems of the content words of the items' titles (product nouns, models)."""
        found = words(" ".join(i.title for i in self.items))
        return {k for w in found if w not in STOPWORDS and len(w) > 2 for k in stem_keys(w)}

    @cached_property
    def shared_stems(self) -> set[str]:
        """Stems of category, brand and attribute words that at least half the items share."""
        counts: Counter[str] = Counter()
        for item in self.items:
            text = " ".join([item.category, item.brand or "", *item.attributes.values()])
            counts.update({k for w in words(text) for k in stem_keys(w)})
        need = max(1, (len(self.items) + 1) // 2)
        return {s for s, n in counts.items() if n >= need}


@cache
def known_name_words() -> frozenset[str]:
    return frozenset(w for _, name in known_names() for w in words(name))


def item_fields(item: Item) -> list[str]:
    attrs = [f"{k} {v}" for k, v in sorted(item.attributes.items())]
    return [item.title, item.brand or "", item.category, *attrs]


def brand_key(name: str) -> str:
    """Compare brands on letters and digits only: ``Levi's`` == ``levis``."""
    return "".join(ch for ch in canonical(name).replace("&", "and") if ch.isalnum())


# Words of category names that also serve as ordinary copy ("Top picks", "New in").
_GENERIC_CATEGORY_WORDS = frozenset({"top", "tops", "new", "home", "all", "other", "more"})


def category_words(categories: Iterable[str]) -> frozenset[str]:
    """The ``catalog_words`` of a catalog: lower-case words of its category paths."""
    found = {w for path in set(categories) for w in words(path.replace(">", " "))}
    return frozenset(w for w in found - _GENERIC_CATEGORY_WORDS - STOPWORDS if len(w) > 2)
