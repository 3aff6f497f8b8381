"""Bad input names the file, row and column; the CLI exits with status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import typer

from subjectline.errors import DataError
from subjectline.experiment.analysis import analyze
from subjectline.experiment.cli import _parse_spending

CLI = [sys.executable, "-c", "from subjectline.cli import main; main()"]


@pytest.fixture()
def small(sends: pl.DataFrame) -> pl.DataFrame:
    return sends.filter(pl.col("arm").is_in(["template", "llm_a"])).head(2000)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


def test_missing_column(small: pl.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "sends.parquet"
    small.drop("revenue").write_parquet(path)
    with pytest.raises(DataError, match="missing column") as info:
        analyze(path, "template")
    assert info.value.column == "revenue" and info.value.file == str(path)


def test_non_binary_flag_names_the_row(small: pl.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "sends.csv"
    bad = small.with_columns(pl.col("clicked").cast(pl.String))
    bad = bad.with_columns(
        pl.when(pl.int_range(pl.len()) == 41)
        .then(pl.lit("2"))
        .otherwise(pl.col("clicked"))
        .alias("clicked")
    )
    bad.write_csv(path)
    with pytest.raises(DataError, match="got '2'") as info:
        analyze(path, "template")
    assert (info.value.row, info.value.column) == (42, "clicked")


def test_text_and_boolean_flags_are_accepted(small: pl.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "sends.csv"
    small.with_columns(pl.col("opened").cast(pl.Boolean)).write_csv(path)
    as_text = analyze(path, "template").arms
    assert as_text == analyze(small, "template").arms


def test_missing_arm_value(small: pl.DataFrame) -> None:
    bad = small.with_columns(
        pl.when(pl.int_range(pl.len()) == 9).then(None).otherwise(pl.col("arm")).alias("arm")
    )
    with pytest.raises(DataError, match="value is missing") as info:
        analyze(bad, "template")
    assert (info.value.row, info.value.column) == (10, "arm")


def test_control_absent_and_empty_arm(small: pl.DataFrame) -> None:
    with pytest.raises(DataError, match="control arm 'nope'"):
        analyze(small, "nope")
    with pytest.raises(DataError, match="arm 'llm_b' has no rows"):
        analyze(small, "template", expected_shares={"template": 0.4, "llm_a": 0.3, "llm_b": 0.3})


def test_cli_analyze_json_and_exit_codes(small: pl.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "sends.parquet"
    small.write_parquet(path)
    done = _run("experiment", "analyze", "--sends", str(path), "--control", "template", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result["arms"]["llm_a"]) == {
        "n",
        "open_rate",
        "ctr",
        "ctor",
        "cvr",
        "unsub_rate",
        "revenue_per_send",
    }
    keys = {
        "metric",
        "treatment",
        "control",
        "difference",
        "relative_lift",
        "ci95",
        "p_value",
        "p_value_adjusted",
        "method",
        "sequential",
        "group_sequential",
    }
    assert all(keys <= set(c) for c in result["comparisons"])
    design = result["comparisons"][0]["group_sequential"]
    assert design["spending"] == "obrien_fleming" and design["looks"] == 14
    assert set(result["srm"]) >= {"expected_shares", "p_value", "mismatch"}

    failed = _run("experiment", "analyze", "--sends", str(path), "--control", "nope")
    assert failed.returncode == 2
    assert "nope" in failed.stderr and str(path) in failed.stderr


def test_cli_bench_aa_json() -> None:
    done = _run("bench", "aa", "--runs", "200", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    for key in ("fixed_horizon", "naive_daily_peeking", "sequential", "always_valid_msprt"):
        assert 0 <= result[key]["false_positive_rate"] <= 1
    assert result["sequential"]["method"].startswith("group sequential")
    assert result["always_valid_msprt"]["method"].startswith("mSPRT")


def test_cli_analyze_planned_looks_and_spending(small: pl.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "sends.parquet"
    small.write_parquet(path)
    args = ("experiment", "analyze", "--sends", str(path), "--control", "template")
    done = _run(*args, "--spending", "pocock", "--planned-looks", "28", "--json")
    assert done.returncode == 0, done.stderr
    design = json.loads(done.stdout)["comparisons"][0]["group_sequential"]
    assert (design["spending"], design["looks"], design["planned_looks"]) == ("pocock", 14, 28)
    assert design["information_fractions"][-1] == 0.5
    table = _run(*args, "--planned-looks", "28")
    assert table.returncode == 0, table.stderr
    assert "14/28" in table.stdout
    with pytest.raises(typer.BadParameter, match="--spending"):
        _parse_spending("haybittle")
