"""The deliver and track commands on a small workspace, against a real SMTP server."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl
from typer.testing import CliRunner

from subjectline.cli import app
from subjectline.deliver.sink import LocalSMTPServer
from subjectline.workspace import Workspace


def make_workspace(tmp_path):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    workspace = tmp_path / "ws"
    Workspace(workspace).write_tables(
        {
            "items": pl.DataFrame(
                {
                    "item_id": ["i1", "i2"],
                    "title": ["Shoe <b>", "Sock"],
                    "category": ["Sports", "Sports"],
                    "brand": ["A", "B"],
                    "price": [10.0, 2.5],
                    "currency": ["USD", "USD"],
                    "in_stock": [True, True],
                    "added_at": [now, now],
                    "attributes": ["{}", "{}"],
                }
            ),
            "users": pl.DataFrame(
                {
                    "user_id": ["u1", "u2", "u3"],
                    "first_name": ["A", "B", None],
                    "locale": ["en"] * 3,
                    "last_active_at": [now] * 3,
                }
            ),
        }
    )
    campaign_dir = tmp_path / "run-42"
    campaign_dir.mkdir()
    pl.DataFrame(
        {
            "user_id": ["u1", "u2", "u3"],
            "theme_key": ["category:Sports"] * 3,
            "theme_label": ["Sports"] * 3,
            "subject": ["Go", "Top picks", "Go"],
            "arm": ["llm", "template", "llm"],
            "item_ids": [["i1", "i2"], ["i2"], ["i1"]],
        }
    ).write_parquet(campaign_dir / "campaign.parquet")
    return workspace, campaign_dir / "campaign.parquet"


def run(*args: str) -> dict:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_export_smtp_track_commands(tmp_path) -> None:
    workspace, campaign = make_workspace(tmp_path)
    ws = ["--workspace", str(workspace)]
    out = tmp_path / "batch.jsonl"
    summary = run(
        "deliver", "export", "--campaign", str(campaign), "--out", str(out), "--json", *ws
    )
    assert summary["sends"] == 3
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["campaign_id"] for r in rows} == {"run-42"}
    assert (workspace / "tracking_keys.json").exists()
    assert (workspace / "events.sqlite").exists()

    CliRunner().invoke(app, ["track", "suppress", "u2", *ws], catch_exceptions=False)
    suppressed = run("track", "suppressed", "--json", *ws)
    assert suppressed == {"suppressed": ["u2"], "count": 1}

    with LocalSMTPServer() as server:
        args = ["--campaign-id", "run-43", "--port", str(server.port), "--rate", "100"]
        report = run("deliver", "smtp", "--campaign", str(campaign), "--json", *args, *ws)
        assert (report["sends"], report["suppressed"], report["sent"]) == (2, 1, 2)
        again = run("deliver", "smtp", "--campaign", str(campaign), "--json", *args, *ws)
        assert (again["sent"], again["already_sent"]) == (0, 2)
        assert sorted(r.rcpt_tos[0] for r in server.received) == [
            "u1@example.invalid",
            "u3@example.invalid",
        ]

    sends = tmp_path / "sends.csv"
    result = CliRunner().invoke(
        app, ["track", "export", "--campaign-id", "run-43", "--out", str(sends), *ws]
    )
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(sends)
    assert frame.columns == [
        "user_id", "arm", "opened", "clicked", "converted", "unsubscribed", "revenue", "sent_at"
    ]  # fmt: skip
    assert frame.height == 2 and frame["opened"].sum() == 0
