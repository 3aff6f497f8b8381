"""`deliver export --format listmonk|mailchimp|klaviyo|braze`: each ESP's import file,
read back with the csv module and checked against the names docs/delivery.md gives."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from test_deliver_cli import invoke, make_workspace, run

DOCS = Path(__file__).parents[2] / "docs" / "delivery.md"


def export(tmp_path: Path, esp: str) -> tuple[dict, list[dict[str, str]], list[str]]:
    workspace, campaign = make_workspace(tmp_path)
    out = tmp_path / f"{esp}.csv"
    args = ["deliver", "export", "--campaign", str(campaign), "--format", esp]
    summary = run(*args, "--out", str(out), "--json", "--workspace", str(workspace))
    with out.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        header = list(reader.fieldnames or [])
    return summary, rows, header


def documented_columns(esp: str) -> list[str]:
    """The backticked names in the docs' row for ``esp`` in the ESP import table."""
    for line in DOCS.read_text().splitlines():
        if line.startswith(f"| {esp} |"):
            return re.findall(r"`([^`]+)`", line.split(" | ")[1])
    raise AssertionError(f"docs/delivery.md has no row for {esp}")


@pytest.mark.parametrize("esp", ["mailchimp", "klaviyo", "braze"])
def test_csv_imports_have_the_documented_columns(tmp_path: Path, esp: str) -> None:
    summary, rows, header = export(tmp_path, esp)
    assert summary["written"] == 3 and summary["format"] == esp
    fixed = [c for c in documented_columns(esp) if "N_" not in c]
    assert header[: len(fixed)] == fixed
    slots = [c for c in header[len(fixed) :]]
    # Two items at most in this campaign: four parts per slot, slots 1 and 2.
    assert len(slots) == 8 and all(("1" in c or "2" in c) for c in slots)
    by_user = {r.get("external_id") or r.get("Email") or r["Email Address"]: r for r in rows}
    assert len(by_user) == 3
    subject = {"mailchimp": "SL_SUBJECT", "klaviyo": "sl_subject", "braze": "sl_subject"}[esp]
    assert sorted(r[subject] for r in rows) == ["Go", "Go", "Top picks"]
    assert summary["subject_template"] in DOCS.read_text().replace("\\|", "|")


def test_mailchimp_merge_tags_fit_its_limit(tmp_path: Path) -> None:
    _summary, rows, header = export(tmp_path, "mailchimp")
    tags = header[2:]
    assert all(re.fullmatch(r"[A-Z0-9_]{1,10}", t) for t in tags), tags
    first = next(r for r in rows if r["Email Address"] == "u1@example.invalid")
    assert first["First Name"] == "A" and first["SL1_NAME"] == "Shoe <b>"
    assert first["SL1_PRICE"] == "$10.00" and first["SL1_URL"].startswith("http")


def test_braze_rows_are_keyed_by_external_id(tmp_path: Path) -> None:
    _summary, rows, _header = export(tmp_path, "braze")
    u3 = next(r for r in rows if r["external_id"] == "u3")
    assert u3["email"] == "u3@example.invalid" and u3["first_name"] == ""
    assert u3["sl_item_2_name"] == ""  # one item: the second slot is blank, left as it is
    assert u3["sl_unsubscribe_url"].startswith("http") and u3["sl_arm"] == "llm"


def test_listmonk_attribs_and_subject_template(tmp_path: Path) -> None:
    summary, rows, header = export(tmp_path, "listmonk")
    assert header == documented_columns("listmonk") == ["email", "name", "attributes"]
    attribs = {r["email"]: json.loads(r["attributes"]) for r in rows}
    u1 = attribs["u1@example.invalid"]
    assert u1["sl_subject"] == "Go" and u1["sl_user_id"] == "u1"
    assert u1["sl_item_2_name"] == "Sock"
    assert "sl_item_2_name" not in attribs["u3@example.invalid"]
    template = (tmp_path / "listmonk.csv.subject.txt").read_text().strip()
    assert template == summary["subject_template"] == "{{ .Subscriber.Attribs.sl_subject }}"


def test_unknown_format_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    workspace, campaign = make_workspace(tmp_path)
    out = tmp_path / "x.csv"
    result = invoke("deliver", "export", "--campaign", str(campaign), "--format", "sendgrid",
                    "--out", str(out), "--workspace", str(workspace))  # fmt: skip
    assert result.exit_code == 2 and "listmonk" in result.output and not out.exists()


def test_esp_export_is_idempotent_like_the_batch(tmp_path: Path) -> None:
    workspace, campaign = make_workspace(tmp_path)
    out = tmp_path / "braze.csv"
    args = ["deliver", "export", "--campaign", str(campaign), "--format", "braze",
            "--out", str(out), "--json", "--workspace", str(workspace)]  # fmt: skip
    assert run(*args)["written"] == 3
    again = run(*args)
    assert (again["written"], again["already_exported"]) == (0, 3)
