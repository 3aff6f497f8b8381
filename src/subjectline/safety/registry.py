"""The named checks: each is a small function ``(title, ctx) -> detail | Reason | None``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from subjectline.safety.context import CheckContext, Reason

Outcome: TypeAlias = str | Reason | None
CheckFn: TypeAlias = Callable[[str, CheckContext], Outcome]

# name -> function, in the order they run (and the order reasons are listed).
CHECKS: dict[str, CheckFn] = {}


def check(name: str) -> Callable[[CheckFn], CheckFn]:
    """Register a check under ``name`` (``family.rule``); a returned string is its detail."""

    def register(fn: CheckFn) -> CheckFn:
        if name in CHECKS:
            raise ValueError(f"check {name!r} registered twice")
        CHECKS[name] = fn
        return fn

    return register


def run_check(name: str, title: str, ctx: CheckContext) -> Reason | None:
    """Run one check; a detail string becomes a blocking ``Reason``."""
    outcome = CHECKS[name](title, ctx)
    if outcome is None or isinstance(outcome, Reason):
        return outcome
    return Reason(name, outcome)
