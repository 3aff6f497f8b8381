"""The control arms: the fixed titles marketplaces send today, chosen by theme kind
(``template_titles``), and the same filled with the theme's grounded facts
(``facts_template_titles``)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from subjectline.generate.records import Prompt
from subjectline.generate.text import escape_untrusted
from subjectline.themes import Theme
from subjectline.themes.brief import ThemeBrief, theme_brief

GENERIC_TEMPLATE = "Top picks for you"
# Candidate 0 of each kind is *the* control title; the rest are the usual variants.
TEMPLATES: dict[str, tuple[str, ...]] = {
    "category": (
        "New in {leaf}",
        "Top picks in {leaf}",
        "{leaf} picks for you",
        "Trending in {leaf}",
    ),
    "brand": ("{brand} picks for you", "New from {brand}", "Top {brand} picks for you"),
    "attribute": ("{label} picks for you", "Top picks: {label}", "Our {label} picks"),
    "new_arrivals": ("New arrivals for you", "Just in: new arrivals", "Fresh arrivals for you"),
    "price_band": ("Top picks {label}", "Great finds {label}", "Picks {label} for you"),
    "mixed": (GENERIC_TEMPLATE, "Recommended for you", "Picked for you", "New picks for you"),
}


def _fields(theme: Theme) -> dict[str, str]:
    label = escape_untrusted(theme.label, 40)
    # The theme's label already names the category well ("Running Shoes", not "Shoes").
    leaf = label
    brand = escape_untrusted(theme.brands[0], 30) if theme.brands else label
    return {"label": label, "leaf": leaf, "brand": brand}


def template_titles(theme: Theme, n: int | None = None, char_budget: int = 60) -> list[str]:
    """The template titles for ``theme`` in order (``n`` of them, cycling if needed);
    a filled template that is empty or over the budget falls back to the generic one."""
    values = _fields(theme)
    titles = []
    for pattern in TEMPLATES.get(theme.kind, TEMPLATES["mixed"]):
        title = pattern.format(**values).strip()
        ok = title and len(title) <= char_budget and all(values[k] for k in values)
        titles.append(title if ok else GENERIC_TEMPLATE)
    count = len(titles) if n is None else n
    return [titles[i % len(titles)] for i in range(count)]


def template_title(theme: Theme, char_budget: int = 60) -> str:
    """The one control title for ``theme`` (also the safe fallback for it)."""
    return template_titles(theme, 1, char_budget)[0]


# --- the facts-filled control --------------------------------------------------------
# Fixed, claim-free patterns filled from the theme's grounded brief (subjectline.themes
# .brief): the strongest template we can write, so "the LLM beats the template" means it
# beats this too. Per theme kind, longest first; a pattern is used when every fact it
# names exists and the filled title fits the budget. Kinds come from the items of the
# theme, not from every email, so all but the two-kind patterns say "and more".
FACTS_TEMPLATES: dict[str, tuple[str, ...]] = {
    "brand": (
        "{brand} {kind} and {kind2}, picked for you",
        "{brand} {kind} and more, picked for you",
        "{brand} {kind} and more",
    ),
    "category": (
        "{kind} and {kind2}, picked for you",
        "{kind} and more, picked for you",
        "{kind} and more",
        "{label}: {kind} and more",
        # No kind in every email, but a brand: still a fact the classic control lacks.
        "{label} picks from {brand} and more",
    ),
    "attribute": ("{kind} and {kind2} in {color}", "{kind} and more in {color}"),
    "price_band": ("{kind} and {kind2} {price_band}", "{kind} and more {price_band}"),
    "new_arrivals": ("New arrivals: {kind} and {kind2}", "New arrivals: {kind} and more"),
}
_FIELD = re.compile(r"\{(\w+)\}")


def _capitalise(title: str) -> str:
    """The first letter upper case, the rest as written (kinds are lower case)."""
    return title[:1].upper() + title[1:]


def _facts_fields(brief: ThemeBrief) -> tuple[dict[str, str], list[str]]:
    """The single-valued fields of the patterns, and the product kinds (best first)."""
    fields = {
        "label": escape_untrusted(brief.label, 40),
        "brand": escape_untrusted(brief.brands[0], 30) if brief.brands else "",
        "color": escape_untrusted(brief.colors[0], 20).lower() if brief.colors else "",
        "price_band": escape_untrusted(brief.price_band, 20) if brief.price_band else "",
    }
    kinds = [k for k in (escape_untrusted(k, 30) for k in brief.kinds) if k]
    return fields, kinds


def _kind_fillings(pattern: str, kinds: list[str]) -> list[dict[str, str]]:
    """Every way to fill the pattern's kinds: pairs in order for two, each kind for one."""
    names = set(_FIELD.findall(pattern))
    if "kind2" in names:
        return [{"kind": a, "kind2": b} for i, a in enumerate(kinds) for b in kinds[i + 1 :]]
    if "kind" in names:
        return [{"kind": k} for k in kinds]
    return [{}]


def _shares_a_word(a: str, b: str) -> bool:
    def words(text: str) -> set[str]:
        return {w.lower().rstrip("s") for w in re.findall(r"[A-Za-z]+", text)}

    return bool(words(a) & words(b))


def facts_template_titles(theme: Theme, char_budget: int = 60) -> list[str]:
    """The facts-filled control titles for ``theme``, best first.

    Each is a fixed pattern of its theme kind (:data:`FACTS_TEMPLATES`) filled from
    :func:`subjectline.themes.brief.theme_brief`: brand + product kinds for a brand theme
    ("Corepulse running shoes and more, picked for you"), two kinds for a category
    ("Skillets and Dutch ovens, picked for you"), kinds + colour for an attribute theme,
    kinds + band for a price band, "New arrivals: <kinds>". A pattern is kept when every
    fact it names exists and the title fits ``char_budget``; patterns come in order, and
    within one, the brief's kinds (most common first, pairs for two-kind patterns), so the
    gate can pass over one whose kind is not in every email. When none is kept (no kinds,
    a mixed theme), the classic :func:`template_titles` are returned instead.
    """
    patterns = FACTS_TEMPLATES.get(theme.kind, ())
    if not patterns:
        return template_titles(theme, char_budget=char_budget)
    fields, kinds = _facts_fields(theme_brief(theme))
    if theme.kind != "brand" and theme.every_email_brands is None:
        fields["brand"] = ""  # a leading brand, not known to be in every email
    titles: list[str] = []
    for pattern in patterns:
        for filling in _kind_fillings(pattern, kinds):
            values = fields | filling
            if not all(values.get(name) for name in _FIELD.findall(pattern)):
                continue
            if "{label}" in pattern and _shares_a_word(values["label"], values.get("kind", "")):
                continue  # "Running Shoes: road running shoes" says it twice
            title = _capitalise(" ".join(pattern.format(**values).split()))
            if len(title) <= char_budget and title not in titles:
                titles.append(title)
    return titles or template_titles(theme, char_budget=char_budget)


def facts_template_title(theme: Theme, char_budget: int = 60) -> str:
    """The one facts-filled control title for ``theme`` (see :func:`facts_template_titles`)."""
    return facts_template_titles(theme, char_budget)[0]


class TemplateBackend:
    """Writes ``template_titles`` without any model; needs ``prompt.theme``."""

    name = "template"
    calls_llm = False

    @property
    def model_id(self) -> str:
        return "fixed-templates-v1"

    def complete(self, prompts: Sequence[Prompt]) -> list[str]:
        out = []
        for prompt in prompts:
            if prompt.theme is None:
                out.append(GENERIC_TEMPLATE)
                continue
            titles = template_titles(prompt.theme, None, prompt.spec.char_budget)
            out.append(titles[prompt.index % len(titles)])
        return out
