"""The backend interface and the factory.

A backend turns prompts into raw text and knows nothing of themes, caching or cleaning
(the output spec travels inside each :class:`Prompt`; a backend uses as much of it as its
provider supports: a grammar, stop rules, a token limit). Writing a new one means a
small class with ``name``, ``model_id``, ``calls_llm`` and ``complete``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from subjectline.errors import SubjectlineError
from subjectline.generate.records import Completion, Prompt

BACKENDS = ("local", "openai", "template")


class BackendError(SubjectlineError):
    """A backend could not answer (server down, bad request, retries exhausted)."""


@runtime_checkable
class TitleBackend(Protocol):
    """``complete`` answers every prompt, in order; a plain ``str`` counts as a
    :class:`Completion` with no token counts. ``calls_llm`` is False for backends that
    write titles without a model (no cache, no LLM-call accounting)."""

    name: str
    calls_llm: bool

    @property
    def model_id(self) -> str: ...

    def complete(self, prompts: Sequence[Prompt]) -> Sequence[Completion | str]: ...


def make_backend(name: str, **options: Any) -> TitleBackend:
    """``local`` (embedded SmolLM2 via xllamacpp), ``openai`` (any OpenAI-compatible
    server) or ``template`` (fixed marketplace templates, the control arm). Options go to
    the backend's constructor; ``None`` values are dropped so CLI defaults pass through."""
    opts = {k: v for k, v in options.items() if v is not None}
    if name == "local":
        from subjectline.generate.local import LocalBackend

        return LocalBackend(**opts)
    if name == "openai":
        from subjectline.generate.openai_backend import OpenAIBackend

        return OpenAIBackend(**opts)
    if name == "template":
        from subjectline.generate.template import TemplateBackend

        return TemplateBackend(**opts)
    raise ValueError(f"unknown backend {name!r}; known: {', '.join(BACKENDS)}")
