"""`subjectline check`: single titles, exit codes, and bad input naming file and line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from subjectline.cli import app

ITEM = {
    "item_id": "r1",
    "title": "Stridewell Trail Running Shoes",
    "category": "Sports > Running > Shoes",
    "brand": "Stridewell",
    "price": 89,
    "added_at": "2025-01-15T00:00:00Z",
}
PROMO = {
    "promo_id": "p1",
    "scope": "brand",
    "target": "Stridewell",
    "discount_pct": 20,
    "starts_at": "2025-06-01T00:00:00Z",
    "ends_at": "2025-06-14T00:00:00Z",
}
NOW = ["--now", "2025-06-12T09:00:00Z"]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    items, promos = tmp_path / "items.json", tmp_path / "promos.json"
    items.write_text(json.dumps([ITEM]))
    promos.write_text(json.dumps([PROMO]))
    return items, promos


def run(*args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``subjectline check ARGS``."""
    result = CliRunner().invoke(app, ["check", *args])
    return result.exit_code, result.stdout, result.stderr


def test_single_title_pass_and_reject(files: tuple[Path, Path]) -> None:
    items, promos = files
    code, out, _ = run("--title", "Trail running shoes", "--items", str(items), "--json", *NOW)
    assert code == 0 and json.loads(out)["ok"] is True
    code, out, _ = run("--title", "20% off trail shoes", "--items", str(items), "--json", *NOW)
    payload = json.loads(out)
    assert code == 1 and payload["ok"] is False
    assert payload["reasons"][0] == {
        "check": "grounding.percent",
        "detail": "claims 20% off but no active promotion applies to these items",
    }
    args = ["--items", str(items), "--promotions", str(promos), "--json", *NOW]
    code, out, _ = run("--title", "20% off trail shoes", *args)
    assert code == 0, out


def test_theme_label_option(files: tuple[Path, Path]) -> None:
    items, _ = files
    args = ["--items", str(items), "--theme-label", "Running Shoes", "--json", *NOW]
    assert run("--title", "Cozy knitwear for winter", *args)[0] == 1
    assert run("--title", "Shoes for your next run", *args)[0] == 0


def test_malformed_jsonl_names_file_and_line(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    good = json.dumps({"title": "Trail running shoes", "items": [ITEM]})
    cases.write_text(good + "\n\n" + "{not json\n")
    code, _, err = run("--cases", str(cases), "--json", *NOW)
    assert code == 2
    assert str(cases) in err and "line 3" in err


def test_missing_required_item_field_is_clear(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    item = {k: v for k, v in ITEM.items() if k != "price"}
    item.pop("brand")  # optional: fine
    cases.write_text(json.dumps({"title": "Shoes", "items": [item]}) + "\n")
    code, _, err = run("--cases", str(cases), *NOW)
    assert code == 2 and "row 1" in err and "missing required field(s) price" in err


def test_bad_input_exits_2_from_the_real_command(tmp_path: Path) -> None:
    items = tmp_path / "items.json"
    items.write_text(json.dumps([{"item_id": "x"}]))
    proc = subprocess.run(
        [sys.executable, "-m", "subjectline", "check", "--title", "Shoes", "--items", str(items)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "items.json" in proc.stderr and "missing required field" in proc.stderr
