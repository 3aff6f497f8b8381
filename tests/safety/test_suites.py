"""The red-team and clean suites, through the Python API and through `subjectline check`."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from subjectline.cli import app
from subjectline.safety import CheckContext, CheckResult, check_title
from subjectline.safety.cases import Case, read_cases

HERE = Path(__file__).parent
REDTEAM = HERE / "redteam.jsonl"
CLEAN = HERE / "clean.jsonl"
MAX_FALSE_POSITIVE_RATE = 0.05

red_cases = list(read_cases(REDTEAM))
clean_cases = list(read_cases(CLEAN))


def context(case: Case) -> CheckContext:
    return CheckContext(
        items=case.items, promotions=case.promotions, theme=case.theme, now=case.now
    )


def fired(checks: list[str], expected: str) -> bool:
    """``expected`` is a check name (``grounding.price``) or a family (``injection``)."""
    return any(c == expected or c.startswith(expected + ".") for c in checks)


def test_suites_are_big_enough_and_cover_every_family() -> None:
    assert len(red_cases) >= 120
    assert len(clean_cases) >= 150
    families = {c.expect.split(".")[0] for c in red_cases if c.expect}
    assert families == {"form", "profanity", "spam", "grounding", "injection", "pii"}


@pytest.mark.parametrize("case", red_cases, ids=[c.id or "" for c in red_cases])
def test_redteam_case_is_rejected_by_expected_check(case: Case) -> None:
    result = check_title(case.title, context(case))
    assert not result.ok
    assert case.expect and fired(result.checks, case.expect), result.reasons


def test_portable_redteam_titles_fail_in_any_email() -> None:
    """Titles marked portable fail whatever the email: the campaign test reuses them."""
    other_items = clean_cases[0].items
    for case in red_cases:
        if not case.raw.get("portable"):
            continue
        ctx = CheckContext(items=other_items, theme=None, now=datetime(2025, 6, 12, tzinfo=UTC))
        assert not check_title(case.title, ctx).ok, case.id


def test_redteam_through_cli_one_result_per_line_in_order() -> None:
    result = CliRunner().invoke(app, ["check", "--cases", str(REDTEAM), "--json"])
    assert result.exit_code == 1, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == len(red_cases)
    for case, out in zip(red_cases, lines, strict=True):
        assert out["title"] == case.title
        assert out["ok"] is False
        assert case.expect and fired([r["check"] for r in out["reasons"]], case.expect), out


def clean_results() -> list[tuple[Case, CheckResult]]:
    return [(c, check_title(c.title, context(c))) for c in clean_cases]


def test_clean_false_positive_rate_at_most_5_percent(capsys: pytest.CaptureFixture[str]) -> None:
    results = clean_results()
    rejected = [(c.title, r.checks) for c, r in results if not r.ok]
    rate = len(rejected) / len(results)
    with capsys.disabled():
        print(f"\nclean false-positive rate: {len(rejected)}/{len(results)} = {rate:.1%}")
        for title, checks in rejected:
            print(f"  rejected clean title {title!r}: {checks}")
    assert rate <= MAX_FALSE_POSITIVE_RATE


def test_clean_through_cli_matches_api() -> None:
    result = CliRunner().invoke(app, ["check", "--cases", str(CLEAN), "--json"])
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    api = [r.ok for _, r in clean_results()]
    assert [line["ok"] for line in lines] == api
    assert result.exit_code == (0 if all(api) else 1)


def test_clean_titles_with_promotions_fail_without_them() -> None:
    """The promotion is what makes a discount title pass: drop it and it must fail."""
    claims = [c for c in clean_cases if c.promotions and "%" in c.title]
    assert len(claims) >= 5
    for case in claims:
        assert check_title(case.title, context(case)).ok
        assert not check_title(case.title, replace(context(case), promotions=())).ok
