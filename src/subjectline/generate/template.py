"""The control arm: the fixed titles marketplaces send today, chosen by theme kind."""

from __future__ import annotations

from collections.abc import Sequence

from subjectline.generate.records import Prompt
from subjectline.generate.text import escape_untrusted
from subjectline.themes import Theme

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
