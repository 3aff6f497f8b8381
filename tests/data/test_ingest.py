from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from subjectline.cli import app
from subjectline.data.ingest import ingest
from subjectline.errors import DataError
from subjectline.workspace import Workspace

runner = CliRunner()


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("ground_truth"))
    return dst


def _corrupt(path: Path, line: int, column: str, value: str) -> None:
    frame = pl.read_csv(path, infer_schema=False)
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == line - 1)
        .then(pl.lit(value))
        .otherwise(pl.col(column))
        .alias(column)
    )
    frame.write_csv(path)


def test_ingest_loads_every_kind(small_market: Path, tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    counts = ingest(small_market, ws)
    assert counts["users"] == 500
    assert counts["items"] == 300
    assert ws.table("interactions").height == counts["interactions"]
    items = ws.table("items")
    assert items.schema["added_at"] == pl.Datetime("us", "UTC")
    assert items["price"].min() > 0


@pytest.mark.parametrize(
    ("kind", "column", "value", "reason"),
    [
        ("items", "price", "cheap", "cannot read 'cheap' as a number"),
        ("items", "added_at", "yesterday", "as a date-time"),
        ("interactions", "item_id", "i999999", "unknown item_id"),
        ("interactions", "event", "click", "event must be one of"),
        ("users", "user_id", "u000001", "duplicate user_id"),
        ("promotions", "discount_pct", "150", "discount_pct must be in (0, 100]"),
    ],
)
def test_bad_row_names_file_row_and_changes_nothing(
    small_market: Path, tmp_path: Path, kind: str, column: str, value: str, reason: str
) -> None:
    ws = Workspace(tmp_path / "ws")
    ingest(small_market, ws)
    before = {k: ws.table(k) for k in ("items", "users", "interactions", "promotions")}
    bad = _copy(small_market, tmp_path / "bad")
    row = 3 if kind != "users" else 5  # row 5 duplicates u000001 from row 1
    _corrupt(bad / f"{kind}.csv", row, column, value)
    with pytest.raises(DataError) as info:
        ingest(bad, ws)
    assert info.value.row == row
    assert info.value.file.endswith(f"{kind}.csv")
    assert reason in str(info.value)
    for k, frame in before.items():
        assert ws.table(k).equals(frame), f"{k} changed after a failed ingest"


def test_missing_column_is_reported(small_market: Path, tmp_path: Path) -> None:
    bad = _copy(small_market, tmp_path / "bad")
    pl.read_csv(bad / "items.csv", infer_schema=False).drop("price").write_csv(bad / "items.csv")
    with pytest.raises(DataError, match=r"items.csv: missing column\(s\) price"):
        ingest(bad, Workspace(tmp_path / "ws"))


def test_cli_exits_non_zero_with_file_and_row(small_market: Path, tmp_path: Path) -> None:
    bad = _copy(small_market, tmp_path / "bad")
    _corrupt(bad / "items.csv", 2, "in_stock", "maybe")
    result = runner.invoke(app, ["ingest", str(bad), "--workspace", str(tmp_path / "ws")])
    assert result.exit_code == 2
    assert "items.csv, row 2, column 'in_stock'" in result.stderr
    assert not Workspace(tmp_path / "ws").has_table("items")


def test_parquet_and_csv_give_the_same_tables(tmp_path: Path) -> None:
    from subjectline.data.synth import SynthConfig, write_marketplace

    cfg = SynthConfig(users=50, items=60, seed=3)
    write_marketplace(cfg, tmp_path / "pq", fmt="parquet")
    write_marketplace(cfg, tmp_path / "csv", fmt="csv")
    a, b = Workspace(tmp_path / "a"), Workspace(tmp_path / "b")
    ingest(tmp_path / "pq", a)
    ingest(tmp_path / "csv", b)
    for kind in ("items", "users", "interactions", "promotions"):
        assert a.table(kind).equals(b.table(kind)), kind
