from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from subjectline.data.contract import SCHEMAS
from subjectline.data.ingest import load_dir
from subjectline.data.movielens import load_movielens, write_movielens
from subjectline.data.validate import validate
from subjectline.errors import DataError


@pytest.fixture(scope="module")
def movielens() -> dict[str, pl.DataFrame]:
    return load_movielens()


def test_shape_of_movielens_100k(movielens: dict[str, pl.DataFrame]) -> None:
    assert movielens["users"].height == 943
    assert movielens["items"].height == 1682
    assert movielens["interactions"].height == 100_000
    assert set(movielens["interactions"]["event"].unique()) == {"rating"}


def test_frames_follow_the_contract(movielens: dict[str, pl.DataFrame]) -> None:
    for kind, frame in movielens.items():
        assert dict(frame.schema) == SCHEMAS[kind], kind
        validate(frame, kind, kind)  # raises on any bad row


def test_movie_mapping(movielens: dict[str, pl.DataFrame]) -> None:
    toy_story = movielens["items"].filter(pl.col("item_id") == "1").row(0, named=True)
    assert toy_story["title"] == "Toy Story"
    assert toy_story["category"] == "Movies > Animation"
    assert json.loads(toy_story["attributes"]) == {
        "genres": "Animation|Children's|Comedy",
        "year": "1995",
    }
    assert toy_story["brand"] is None
    assert toy_story["price"] == 0.0 and toy_story["currency"] == "USD"
    assert toy_story["in_stock"] is True
    assert toy_story["added_at"] == datetime(1995, 1, 1, tzinfo=UTC)
    assert movielens["items"]["category"].str.starts_with("Movies > ").all()


def test_ratings_and_users(movielens: dict[str, pl.DataFrame]) -> None:
    first = movielens["interactions"].row(0, named=True)
    assert (first["user_id"], first["item_id"], first["value"]) == ("196", "242", 3.0)
    assert first["ts"] == datetime.fromtimestamp(881250949, UTC)
    last_rating = movielens["interactions"].group_by("user_id").agg(pl.col("ts").max())
    users = movielens["users"].join(last_rating, on="user_id")
    assert (users["last_active_at"] == users["ts"]).all()
    assert (movielens["users"]["locale"] == "en_US").all()


def test_write_movielens_round_trips_through_ingest(tmp_path: Path) -> None:
    counts = write_movielens(tmp_path / "ml")
    assert counts == {"items": 1682, "users": 943, "interactions": 100_000}
    frames = load_dir(tmp_path / "ml")
    assert {k: f.height for k, f in frames.items()} == counts


def _write_atomic(directory: Path, inter_rows: list[str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ml-100k.item").write_text(
        "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
        "10\tAlpha\t1990\tDrama War\n"
        "11\tBeta\t\tComedy\n"
    )
    (directory / "ml-100k.user").write_text(
        "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n"
        "7\t30\tF\twriter\t12345\n"
    )
    header = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    (directory / "ml-100k.inter").write_text(header + "".join(r + "\n" for r in inter_rows))


def test_source_directory_is_read(tmp_path: Path) -> None:
    _write_atomic(tmp_path, ["7\t10\t4\t1000000000", "7\t11\t2\t1000000100"])
    frames = load_movielens(tmp_path)
    items = frames["items"].sort("item_id")
    assert items["category"].to_list() == ["Movies > Drama", "Movies > Comedy"]
    # No release year: the movie counts as added when it was first rated.
    assert items["added_at"][1] == datetime.fromtimestamp(1000000100, UTC)
    assert frames["users"]["last_active_at"][0] == datetime.fromtimestamp(1000000100, UTC)


def test_unknown_item_names_file_and_row(tmp_path: Path) -> None:
    _write_atomic(tmp_path, ["7\t10\t4\t1000000000", "7\t99\t2\t1000000100"])
    with pytest.raises(DataError) as info:
        load_movielens(tmp_path)
    assert info.value.file.endswith("ml-100k.inter")
    assert info.value.row == 2
    assert "99" in info.value.reason


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    _write_atomic(tmp_path, ["7\t10\t4\t1000000000"])
    (tmp_path / "ml-100k.user").unlink()
    with pytest.raises(DataError, match=r"ml-100k\.user"):
        load_movielens(tmp_path)
