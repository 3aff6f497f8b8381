"""The guardrail stage: run every check on a title, and pick a title that passes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from subjectline.errors import SubjectlineError
from subjectline.safety import form, grounding, injection, lexical, pii, quality  # noqa: F401
from subjectline.safety.context import CheckContext, CheckResult, Reason
from subjectline.safety.registry import CHECKS, run_check
from subjectline.themes import Theme

GENERIC_TEMPLATES: tuple[str, ...] = ("Top picks for you", "Picked for you", "For you")
# Safe, claim-free templates per theme kind ({label} is the theme's label).
THEME_TEMPLATES: dict[str, tuple[str, ...]] = {
    "category": ("{label} picks for you", "Handpicked {label} for you", "Our {label} edit"),
    "brand": ("{label} picks for you", "More from {label}", "Our {label} edit"),
    "attribute": ("{label} picks for you", "Our {label} edit"),
    "new_arrivals": ("New arrivals for you", "Just in: picks for you"),
    "price_band": ("Picks {label}", "Finds {label}"),
    "mixed": (),
}
Source = Literal["candidate", "theme_template", "generic_template"]


class SafetyError(SubjectlineError):
    """No candidate, theme template or generic template passes: the policy is unsatisfiable."""


def check_title(title: str, ctx: CheckContext) -> CheckResult:
    """Run every registered check (except ``ctx.skip_checks``) and keep every reason."""
    blocking: list[Reason] = []
    warnings: list[Reason] = []
    for name in CHECKS:
        if name in ctx.skip_checks or name.split(".", 1)[0] in ctx.skip_checks:
            continue
        reason = run_check(name, title, ctx)
        if reason is None:
            continue
        (blocking if reason.blocking else warnings).append(reason)
    penalty = sum(r.penalty for r in warnings)
    return CheckResult(ok=not blocking, reasons=blocking, penalty=penalty, warnings=warnings)


@dataclass(frozen=True)
class SafeChoice:
    """The title to ship, where it came from, and every candidate rejected on the way."""

    text: str
    source: Source
    rejected: list[tuple[str, list[Reason]]] = field(default_factory=list)
    result: CheckResult | None = None

    @property
    def is_fallback(self) -> bool:
        return self.source != "candidate"


def theme_templates(theme: Theme | None) -> list[str]:
    """The built-in safe templates for ``theme`` (empty for mixed or no theme)."""
    if theme is None:
        return []
    label = " ".join(theme.label.split())
    return [t.format(label=label) for t in THEME_TEMPLATES.get(theme.kind, ())]


def choose_safe(
    candidates: Sequence[str],
    ctx: CheckContext,
    fallbacks: Sequence[str] = (),
    ranking: Sequence[float] | None = None,
    check_all: bool = True,
) -> SafeChoice:
    """The best passing candidate (the first, or the highest ``ranking`` score), else the
    first passing theme template (``fallbacks``, or the built-in ones when empty), else the
    first passing generic template (checked without the theme requirement). Never returns
    a failing text: raises ``SafetyError`` if even the generic templates fail.

    ``check_all`` checks every candidate so the audit sees every rejection; otherwise
    checking stops at the first pass.
    """
    if ranking is not None and len(ranking) != len(candidates):
        raise ValueError("ranking must have one score per candidate")
    order = list(range(len(candidates)))
    if ranking is not None:
        order.sort(key=lambda i: -ranking[i])
    rejected: list[tuple[str, list[Reason]]] = []
    chosen: tuple[str, CheckResult] | None = None
    for i in order:
        result = check_title(candidates[i], ctx)
        if result.ok:
            if chosen is None:
                chosen = (candidates[i], result)
            if not check_all:
                break
        else:
            rejected.append((candidates[i], result.reasons))
    if chosen is not None:
        return SafeChoice(chosen[0], "candidate", rejected, chosen[1])
    for text in list(fallbacks) or theme_templates(ctx.theme):
        result = check_title(text, ctx)
        if result.ok:
            return SafeChoice(text, "theme_template", rejected, result)
    generic_ctx = replace(ctx, theme=None)
    for text in GENERIC_TEMPLATES:
        result = check_title(text, generic_ctx)
        if result.ok:
            return SafeChoice(text, "generic_template", rejected, result)
    raise SafetyError(
        "no candidate or template passes the safety checks; generic template reasons: "
        + "; ".join(
            f"{r.check}: {r.detail}" for r in check_title(GENERIC_TEMPLATES[0], generic_ctx).reasons
        )
    )
