"""Safety stage: guardrails between generation and scoring.

``check_title(title, ctx)`` runs every named check and keeps every reason;
``choose_safe(candidates, ctx, fallbacks)`` never returns a title that failed a check;
``record_rejections`` keeps the audit trail in the workspace. See docs/safety.md.
"""

from subjectline.safety.audit import (
    Rejection,
    count_by_check,
    fallback_counts,
    record_rejections,
    rejection_counts,
    rejections_from_choice,
    rejections_of,
)
from subjectline.safety.context import CheckContext, CheckResult, Reason, category_words
from subjectline.safety.guard import (
    GENERIC_TEMPLATES,
    SafeChoice,
    SafetyError,
    check_title,
    choose_safe,
    theme_templates,
)
from subjectline.safety.registry import CHECKS, run_check

__all__ = [
    "CHECKS",
    "GENERIC_TEMPLATES",
    "CheckContext",
    "CheckResult",
    "Reason",
    "Rejection",
    "SafeChoice",
    "SafetyError",
    "category_words",
    "check_title",
    "choose_safe",
    "count_by_check",
    "fallback_counts",
    "record_rejections",
    "rejection_counts",
    "rejections_from_choice",
    "rejections_of",
    "run_check",
    "theme_templates",
]
