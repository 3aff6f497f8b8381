"""Generation stage: candidate titles per distinct theme, cached in the workspace.

>>> from subjectline.generate import PromptSettings, generate_titles, make_backend
>>> titles, stats = generate_titles(themes, make_backend("local"), PromptSettings())
"""

from subjectline.generate.backends import BACKENDS, BackendError, TitleBackend, make_backend
from subjectline.generate.generate import backend_model_id, generate_titles
from subjectline.generate.prompts import build_prompt
from subjectline.generate.records import (
    FIRST_NAME_TOKEN,
    TONES,
    Candidate,
    ChatMessage,
    Completion,
    GenerationStats,
    OutputSpec,
    Prompt,
    PromptSettings,
    Tone,
)
from subjectline.generate.template import (
    GENERIC_TEMPLATE,
    TemplateBackend,
    template_title,
    template_titles,
)
from subjectline.generate.text import clean_title, escape_untrusted, personalize

__all__ = [
    "BACKENDS",
    "FIRST_NAME_TOKEN",
    "GENERIC_TEMPLATE",
    "TONES",
    "BackendError",
    "Candidate",
    "ChatMessage",
    "Completion",
    "GenerationStats",
    "OutputSpec",
    "Prompt",
    "PromptSettings",
    "TemplateBackend",
    "TitleBackend",
    "Tone",
    "backend_model_id",
    "build_prompt",
    "clean_title",
    "escape_untrusted",
    "generate_titles",
    "make_backend",
    "personalize",
    "template_title",
    "template_titles",
]
