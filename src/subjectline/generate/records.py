"""Typed records of the generation stage: settings, prompts, outputs, candidates, stats."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from subjectline.themes import Theme

Tone = Literal["friendly", "playful", "premium", "calm", "informative"]
TONES: tuple[str, ...] = ("friendly", "playful", "premium", "calm", "informative")
FIRST_NAME_TOKEN = "{first_name}"

# Settings that change which candidates exist, not what a candidate is: left out of the
# cache hash so that asking for more candidates (or more retries) reuses the earlier ones.
_NOT_HASHED = frozenset({"n_candidates", "max_retries"})


@dataclass(frozen=True)
class PromptSettings:
    """How titles are asked for. Everything but ``n_candidates``/``max_retries`` is hashed
    into the cache key, so changing any of it makes new titles instead of reusing old ones.

    Candidate ``i`` (0-based) at retry ``a`` samples with ``seed + i + 7919 * a`` and the
    temperature ``temperatures[i % len(temperatures)] * retry_cooling ** a``.
    """

    prompt_version: str = "v2"
    tone: Tone = "friendly"
    call_to_action: bool = False
    char_budget: int = 60
    locale: str = "en_US"
    n_candidates: int = 8
    temperatures: tuple[float, ...] = (0.6, 0.75, 0.9, 1.0)
    seed: int = 2508
    retry_cooling: float = 0.8
    # Titles may hold the ``{first_name}`` token, filled in after generation (never sent
    # to the LLM); ``name_reserve`` characters of the budget are kept for the name.
    personalization: bool = False
    name_reserve: int = 12
    # Force the theme's label into the title (grammar on backends that take one, a check
    # on the others); never for the "mixed" theme.
    require_label: bool = True
    max_items: int = 3
    max_tokens: int = 32
    top_p: float = 0.95
    min_p: float = 0.05
    # Off: llama.cpp counts prompt tokens too, so a penalty hits the few-shot turns
    # end-of-turn token and keeps the model from ending (outputs ran to the limit).
    repeat_penalty: float = 1.0
    max_retries: int = 2

    def __post_init__(self) -> None:
        if self.tone not in TONES:
            raise ValueError(f"unknown tone {self.tone!r}; known: {', '.join(TONES)}")
        if not 20 <= self.char_budget <= 200:
            raise ValueError(f"char_budget must be within 20..200, not {self.char_budget}")
        if self.n_candidates < 1:
            raise ValueError("n_candidates must be at least 1")
        if not self.temperatures or any(not 0.0 <= t <= 2.0 for t in self.temperatures):
            raise ValueError("temperatures must be a non-empty list of values in 0..2")
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.personalization and self.name_reserve >= self.char_budget - 10:
            raise ValueError("name_reserve leaves no room for a title")

    def seed_for(self, index: int, attempt: int = 0) -> int:
        return self.seed + index + 7919 * attempt

    def temperature_for(self, index: int, attempt: int = 0) -> float:
        base = self.temperatures[index % len(self.temperatures)]
        return round(base * self.retry_cooling**attempt, 4)

    @property
    def language(self) -> str:
        return self.locale.replace("-", "_").split("_")[0].lower()

    def cache_hash(self, extra: str = "") -> str:
        """A short digest of every setting that shapes a candidate (plus ``extra``)."""
        payload = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _NOT_HASHED}
        text = json.dumps(payload, sort_keys=True, default=list) + extra
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class OutputSpec:
    """What a title must look like, apart from any provider: backends that take a
    grammar get :meth:`subjectline.generate.grammar.gbnf` of it, the others stop rules."""

    char_budget: int
    required_phrase: str | None = None
    allow_name_token: bool = False
    name_reserve: int = 12
    # The grammar lets the model run this many characters past the budget so that it can
    # finish a thought; post-processing then trims back to a clause or word boundary.
    overrun: int = 24
    stop: tuple[str, ...] = ("\n",)
    # Grounded prompts: the title is one of these phrasings of the theme's brief (a
    # grammar of alternatives where the backend takes one).
    choices: tuple[str, ...] = ()

    @property
    def max_chars(self) -> int:
        return self.char_budget + self.overrun


@dataclass(frozen=True)
class Prompt:
    """One request for one candidate: the chat, the output spec and the sampling."""

    messages: tuple[ChatMessage, ...]
    spec: OutputSpec
    seed: int
    temperature: float
    max_tokens: int = 32
    top_p: float = 0.95
    min_p: float = 0.05
    # Off: llama.cpp counts prompt tokens too, so a penalty hits the few-shot turns'
    # end-of-turn token and keeps the model from ending (outputs ran to the limit).
    repeat_penalty: float = 1.0
    theme: Theme | None = None
    index: int = 0
    attempt: int = 0

    def chat(self) -> list[dict[str, str]]:
        return [{"role": m.role, "content": m.content} for m in self.messages]

    def text(self) -> str:
        """Everything the model sees, as one string (for audits and tests)."""
        return "\n".join(f"[{m.role}] {m.content}" for m in self.messages)


@dataclass(frozen=True)
class Completion:
    """A backend's raw answer to one prompt."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = ""


@dataclass(frozen=True)
class Candidate:
    """One well-formed candidate title for one theme (may hold ``{first_name}``)."""

    theme_key: str
    text: str
    backend: str
    model: str
    prompt_version: str
    seed: int
    temperature: float
    index: int
    attempts: int = 1
    cached: bool = False

    @property
    def has_name_token(self) -> bool:
        return FIRST_NAME_TOKEN in self.text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GenerationStats:
    """Counts for one ``generate_titles`` call.

    ``llm_calls`` counts requests sent to an LLM (retries included, cache hits not);
    ``outputs_clean`` counts raw outputs that were already one clean line within the
    budget, ``outputs_accepted`` those accepted after post-processing.
    """

    themes: int = 0
    llm_calls: int = 0
    cache_hits: int = 0
    candidates: int = 0
    retries: int = 0
    failed: int = 0
    outputs_clean: int = 0
    outputs_accepted: int = 0
    seconds: float = 0.0
    tokens: int = 0
    prompt_tokens: int = 0
    rejections: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
