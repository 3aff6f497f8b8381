"""Versioned prompt templates (``prompts/<version>/``) and the prompt for one candidate.

A version is a directory with ``system.j2``, ``user.j2`` and ``examples.json`` (tone
descriptions and few-shot examples). Its digest goes into the cache key, so editing a
template never serves titles written for the old one.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from subjectline.generate import grounded
from subjectline.generate.records import ChatMessage, OutputSpec, Prompt, PromptSettings
from subjectline.generate.text import escape_untrusted
from subjectline.themes import Theme
from subjectline.themes.brief import ThemeBrief, theme_brief

PROMPTS_DIR = Path(__file__).parent / "prompts"
KIND_WORDS = {
    "category": "category",
    "brand": "brand",
    "attribute": "shared attribute",
    "new_arrivals": "new arrivals",
    "price_band": "price range",
    "mixed": "mixed picks",
}
LANGUAGES = {
    "en": "English",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "nl": "Dutch",
    "pt": "Portuguese",
    "pl": "Polish",
    "sv": "Swedish",
}
# A label is only forced into the output when it is plain enough to be a phrase.
_PLAIN_LABEL = re.compile(r"^[\w][\w '’&.-]{0,29}$")


@dataclass(frozen=True)
class PromptTemplate:
    version: str
    system: jinja2.Template
    user: jinja2.Template
    examples: dict[str, Any]
    digest: str


def available_versions() -> list[str]:
    return sorted(p.name for p in PROMPTS_DIR.iterdir() if (p / "system.j2").is_file())


@cache
def load_template(version: str) -> PromptTemplate:
    folder = PROMPTS_DIR / version
    if not (folder / "system.j2").is_file():
        raise ValueError(
            f"unknown prompt version {version!r}; known: {', '.join(available_versions())}"
        )
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # untrusted text is escaped by escape_untrusted, not as HTML
        keep_trailing_newline=False,
    )
    digest = hashlib.sha256()
    for name in ("system.j2", "user.j2", "examples.json"):
        digest.update((folder / name).read_bytes())
    examples = json.loads((folder / "examples.json").read_text())
    if examples.get("grounded"):
        # The phrasings are code: a change to them must not serve titles cached before.
        import subjectline.themes.brief as brief_module

        for module in (grounded, brief_module):
            digest.update(Path(str(module.__file__)).read_bytes())
    return PromptTemplate(
        version=version,
        system=env.get_template("system.j2"),
        user=env.get_template("user.j2"),
        examples=examples,
        digest=digest.hexdigest()[:16],
    )


def language_name(settings: PromptSettings) -> str:
    name = LANGUAGES.get(settings.language, settings.language)
    return f"{name} ({settings.locale})" if settings.language == "en" else name


def required_phrase(theme: Theme, settings: PromptSettings) -> str | None:
    """The theme label the title must contain, if any (never for mixed themes)."""
    if not settings.require_label or theme.is_mixed:
        return None
    label = escape_untrusted(theme.label, 40)
    if not _PLAIN_LABEL.match(label) or len(label) > settings.char_budget // 2:
        return None
    return label


def output_spec(theme: Theme, settings: PromptSettings) -> OutputSpec:
    return OutputSpec(
        char_budget=settings.char_budget,
        required_phrase=required_phrase(theme, settings),
        allow_name_token=settings.personalization,
        name_reserve=settings.name_reserve,
    )


def _user_message(
    tpl: PromptTemplate, label: str, kind: str, brands: list[str], items: list[str]
) -> str:
    # JSON-encoded lists: quotes inside seller text are escaped, one string per item.
    return tpl.user.render(
        label=escape_untrusted(label, 60),
        kind=KIND_WORDS.get(kind, kind),
        brands=json.dumps([escape_untrusted(b, 40) for b in brands], ensure_ascii=False)
        if brands
        else "",
        items=json.dumps([escape_untrusted(t, 80) for t in items], ensure_ascii=False),
    )


def is_grounded(tpl: PromptTemplate) -> bool:
    """A grounded version writes from the theme's brief, one style per candidate."""
    return bool(tpl.examples.get("grounded"))


def _brief_message(tpl: PromptTemplate, brief: dict[str, Any], style: str) -> str:
    def listed(values: Any, limit: int) -> str:
        return ", ".join(escape_untrusted(str(v), limit) for v in values or ())

    return tpl.user.render(
        label=escape_untrusted(brief["label"], 60),
        kinds=listed(brief.get("kinds"), 40),
        brands=listed(brief.get("brands"), 40),
        colors=listed(brief.get("colors"), 20),
        price_band=escape_untrusted(brief.get("price_band") or "", 20),
        style=tpl.examples["styles"][style],
    )


def _brief_fields(brief: ThemeBrief) -> dict[str, Any]:
    return {
        "label": brief.label,
        "kinds": brief.kinds,
        "brands": brief.brands,
        "colors": brief.colors,
        "price_band": brief.price_band,
    }


def grounded_spec(
    brief: ThemeBrief, index: int, settings: PromptSettings
) -> tuple[str, OutputSpec]:
    """Grounded candidate ``index``'s style and spec: one of its share of the phrasings."""
    style, options = grounded.slot_for(brief, index, settings.char_budget)
    if settings.personalization:
        room = settings.char_budget - settings.name_reserve
        options = (*grounded.greeted(brief, options, room), *options)
    return style, OutputSpec(
        char_budget=settings.char_budget,
        choices=options,
        allow_name_token=settings.personalization,
        name_reserve=settings.name_reserve,
    )


@cache
def _fixed_messages(version: str, settings: PromptSettings) -> tuple[ChatMessage, ...]:
    """System message and few-shot turns: identical for every theme, so the server's
    prompt cache reuses them across requests."""
    tpl = load_template(version)
    ex = tpl.examples
    if is_grounded(tpl):
        system = tpl.system.render(
            language=language_name(settings),
            tone=ex["tones"][settings.tone],
            char_budget=settings.char_budget,
        )
        grounded_turns = [ChatMessage("system", system)]
        for shot in ex["shots"]:
            grounded_turns += [
                ChatMessage("user", _brief_message(tpl, shot, shot["style"])),
                ChatMessage("assistant", shot["title"]),
            ]
        return tuple(grounded_turns)
    system = tpl.system.render(
        language=language_name(settings),
        tone=ex["tones"][settings.tone],
        char_budget=settings.char_budget,
        call_to_action=settings.call_to_action,
        cta_examples=ex["cta_examples"],
        personalization=settings.personalization,
    )
    messages = [ChatMessage("system", system)]
    for shot in ex["shots"]:
        titles = shot["titles_cta"] if settings.call_to_action else shot["titles"]
        answer = titles[settings.tone]
        if settings.personalization and settings.tone in shot.get("titles_name", {}):
            answer = shot["titles_name"][settings.tone]
        user = _user_message(tpl, shot["label"], shot["kind"], shot["brands"], shot["items"])
        messages += [ChatMessage("user", user), ChatMessage("assistant", answer)]
    return tuple(messages)


def candidate_count(theme: Theme, settings: PromptSettings) -> int:
    """How many candidates ``theme`` is asked for: ``n_candidates``, or for a grounded
    prompt no more than its menu has distinct shares (more would repeat a title)."""
    if not is_grounded(load_template(settings.prompt_version)):
        return settings.n_candidates
    slots = grounded.menu(theme_brief(theme), settings.char_budget)
    return min(settings.n_candidates, len(slots))


def build_prompt(theme: Theme, settings: PromptSettings, index: int, attempt: int = 0) -> Prompt:
    """The prompt for candidate ``index`` of ``theme`` (retry ``attempt``)."""
    tpl = load_template(settings.prompt_version)
    spec = output_spec(theme, settings)
    if is_grounded(tpl):
        if settings.call_to_action:
            raise ValueError(
                f"prompt version {settings.prompt_version!r} writes no call to action; "
                "use prompt_version='v1' for call_to_action"
            )
        brief = theme_brief(theme)
        style, spec = grounded_spec(brief, index, settings)
        user = _brief_message(tpl, _brief_fields(brief), style)
    else:
        user = _user_message(
            tpl,
            theme.label,
            theme.kind,
            list(theme.brands[: settings.max_items]),
            list(theme.example_titles[: settings.max_items]),
        )
    messages = (*_fixed_messages(settings.prompt_version, settings), ChatMessage("user", user))
    return Prompt(
        messages=messages,
        spec=spec,
        seed=settings.seed_for(index, attempt),
        temperature=settings.temperature_for(index, attempt),
        max_tokens=settings.max_tokens,
        top_p=settings.top_p,
        min_p=settings.min_p,
        repeat_penalty=settings.repeat_penalty,
        theme=theme,
        index=index,
        attempt=attempt,
    )
