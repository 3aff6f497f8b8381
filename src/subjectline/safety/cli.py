"""``subjectline check``: check titles by hand or in bulk against the safety rules."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer


def _emit(payload: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    mark = "PASS" if payload["ok"] else "REJECT"
    sys.stdout.write(f"{mark}  {payload.get('title', '')}\n")
    for r in payload["reasons"]:
        sys.stdout.write(f"  - {r['check']}: {r['detail']}\n")
    for r in payload.get("warnings", []):
        sys.stdout.write(f"  ~ {r['check']} (penalty): {r['detail']}\n")


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command("check")
    def check_cmd(
        title: str | None = typer.Option(None, "--title", help="One title to check."),
        items: Path | None = typer.Option(None, "--items", help="JSON array of the email's items."),
        promotions: Path | None = typer.Option(None, "--promotions", help="JSON array."),
        cases: Path | None = typer.Option(None, "--cases", help="JSON lines, one case a line."),
        theme_label: str | None = typer.Option(None, "--theme-label", help="The theme's label."),
        theme_kind: str = typer.Option("category", "--theme-kind", help="category, brand, ..."),
        now: str | None = typer.Option(None, "--now", help="ISO 8601 time (default: now)."),
        char_budget: int = typer.Option(60, "--char-budget", min=10),
        spam_policy: str = typer.Option("reject", "--spam-policy", help="reject or penalise"),
        emoji: str = typer.Option("limit", "--emoji", help="forbid, limit or allow"),
        as_json: bool = typer.Option(False, "--json", help="One JSON object per title."),
    ) -> None:
        """Check titles against every safety rule; exit 1 if any is rejected, 2 on bad input."""
        from subjectline.safety.cases import (
            load_items,
            load_promotions,
            parse_theme,
            parse_time,
            read_cases,
        )
        from subjectline.safety.context import CheckContext
        from subjectline.safety.guard import check_title

        if spam_policy not in ("reject", "penalise"):
            raise typer.BadParameter("--spam-policy must be reject or penalise")
        if emoji not in ("forbid", "limit", "allow"):
            raise typer.BadParameter("--emoji must be forbid, limit or allow")
        at = parse_time(now, "--now", None, "now") if now else datetime.now(UTC)
        policy: dict[str, Any] = {
            "char_budget": char_budget,
            "spam_policy": spam_policy,
            "emoji_policy": emoji,
        }
        all_ok = True
        if cases is not None:
            if title is not None or items is not None:
                raise typer.BadParameter("use either --cases or --title/--items")
            for case in read_cases(cases):
                ctx = CheckContext(
                    items=case.items,
                    promotions=case.promotions,
                    theme=case.theme,
                    now=case.now or at,
                    **policy,
                )
                result = check_title(case.title, ctx)
                all_ok &= result.ok
                _emit({"title": case.title, **result.to_dict()}, as_json)
        else:
            if title is None or items is None:
                raise typer.BadParameter("--title and --items are required without --cases")
            theme = None
            if theme_label:
                theme = parse_theme(
                    {"label": theme_label, "kind": theme_kind}, "--theme-label", None
                )
            ctx = CheckContext(
                items=load_items(items),
                promotions=load_promotions(promotions) if promotions else [],
                theme=theme,
                now=at,
                **policy,
            )
            result = check_title(title, ctx)
            all_ok = result.ok
            _emit({"title": title, **result.to_dict()}, as_json)
        if not all_ok:
            raise typer.Exit(code=1)
