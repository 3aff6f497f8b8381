"""The deliver and track commands on a small workspace, against a real SMTP server."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl
import sqlalchemy as sa
from typer.testing import CliRunner

from subjectline.cli import app
from subjectline.deliver.sink import LocalSMTPServer
from subjectline.track.schema import sends
from subjectline.track.store import make_engine
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


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_exporting_a_campaign_twice_hands_nothing_over_twice(tmp_path) -> None:
    workspace, campaign = make_workspace(tmp_path)
    ws = ["--workspace", str(workspace)]
    out = tmp_path / "batch.jsonl"

    def export_to(path) -> list[str]:
        return ["deliver", "export", "--campaign", str(campaign), "--out", str(path), *ws]

    export = [*export_to(out), "--json"]
    assert run(*export)["written"] == 3
    first = out.read_bytes()

    again = invoke(*export)
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout.strip().splitlines()[-1])
    assert (summary["written"], summary["already_exported"]) == (0, 3)
    assert "3 of 3 sends of campaign 'run-42' were handed off before" in again.stderr
    assert "--again" in again.stderr
    assert out.read_bytes() == first  # left as it is, not rewritten

    # One more user in the campaign: only that send goes into the next batch.
    frame = pl.read_parquet(campaign)
    pl.concat([frame, frame.head(1).with_columns(user_id=pl.lit("u4"))]).write_parquet(campaign)
    delta = tmp_path / "delta.jsonl"
    summary = run(*export_to(delta), "--json")
    assert (summary["written"], summary["already_exported"]) == (1, 3)
    assert [json.loads(line)["user_id"] for line in delta.read_text().splitlines()] == ["u4"]
    # --again is the explicit way to write everything once more.
    assert run(*export, "--again")["written"] == 4
    # And SMTP does not send what the ESP was given.
    with LocalSMTPServer() as server:
        smtp = ["deliver", "smtp", "--campaign", str(campaign), "--port", str(server.port)]
        report = run(*smtp, "--json", *ws)
        assert (report["sent"], report["already_sent"], server.received) == (0, 4, [])


def test_smtp_exit_status_tells_rejected_from_deferred(tmp_path) -> None:
    workspace, campaign = make_workspace(tmp_path)
    args = ["deliver", "smtp", "--campaign", str(campaign), "--rate", "1000", "--json"]
    args += ["--max-attempts", "1", "--workspace", str(workspace)]
    replies = {"u1@example.invalid": "550 5.7.1 rejected", "u2@example.invalid": "451 4.7.1 later"}
    with LocalSMTPServer(data_policy=lambda rcpts: replies.get(rcpts[0])) as server:
        args += ["--port", str(server.port)]
        first = invoke(*args)
        report = json.loads(first.stdout)
        assert first.exit_code == 1  # a rejection: someone should look
        assert (report["sent"], report["failed"], report["deferred"]) == (1, 1, 1)
        assert len(report["failed_send_ids"]) == len(report["deferred_send_ids"]) == 1
        del replies["u1@example.invalid"]  # would be accepted now, but is not retried
        second = invoke(*args)
        report = json.loads(second.stdout)
        assert second.exit_code == 75  # EX_TEMPFAIL: only greylisted mail left, rerun later
        assert (report["previously_failed"], report["deferred"], report["sent"]) == (1, 1, 0)
        replies.clear()
        third = invoke(*args)
        assert third.exit_code == 0
        assert json.loads(third.stdout)["sent"] == 1
        assert sorted(r.rcpt_tos[0] for r in server.received) == [
            "u2@example.invalid",
            "u3@example.invalid",
        ]


def test_bad_campaign_or_address_book_exits_2_and_writes_nothing(tmp_path) -> None:
    workspace, campaign = make_workspace(tmp_path)
    out = tmp_path / "batch.jsonl"
    export = ["deliver", "export", "--campaign", str(campaign), "--out", str(out)]
    export += ["--workspace", str(workspace)]
    frame = pl.read_parquet(campaign)
    good = frame.clone()
    frame.with_columns(
        subject=pl.when(pl.col("user_id") == "u2")
        .then(pl.lit("=?utf-8?q?Hi=0D=0ABcc:_victim@evil.example?="))
        .otherwise(pl.col("subject"))
    ).write_parquet(campaign)
    result = invoke(*export)
    assert result.exit_code == 2
    assert f"{campaign}, row 2, column 'subject'" in result.stderr
    assert "encoded-word" in result.stderr

    good.write_parquet(campaign)
    book = tmp_path / "emails.csv"
    book.write_text('user_id,email\nu1,ana@shop.example\nu2,"a@example.invalid,b"\n')
    result = invoke(*export, "--addresses", str(book))
    assert result.exit_code == 2
    assert f"{book}, row 2, column 'email'" in result.stderr
    book.write_text("user_id,email\nu1,ana@shop.example\nu2,a@example.invalid,b\n")
    result = invoke(*export, "--addresses", str(book))  # unquoted: not even a CSV table
    assert result.exit_code == 2 and f"{book}: cannot read" in result.stderr
    assert not out.exists() and not list(tmp_path.glob(".batch.jsonl.*"))
    engine = make_engine(f"sqlite:///{workspace / 'events.sqlite'}")
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sends)).scalar_one() == 0
    engine.dispose()
