"""``subjectline ingest DIR``: validated files into the workspace, in one transaction."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from subjectline.data.contract import SCHEMAS
from subjectline.data.validate import (
    check_references,
    drop_row_index,
    kind_of,
    read_raw,
    validate,
)
from subjectline.errors import DataError
from subjectline.workspace import Workspace


def find_files(directory: Path) -> dict[str, Path]:
    """The contract files in ``directory``: ``{kind: path}``; two files of a kind is an error."""
    if not directory.is_dir():
        raise DataError(str(directory), "not a directory")
    found: dict[str, Path] = {}
    for path in sorted(directory.iterdir()):
        kind = kind_of(path)
        if kind is None:
            continue
        if kind in found:
            raise DataError(str(path), f"a second {kind} file (already read {found[kind].name})")
        found[kind] = path
    if not found:
        kinds = ", ".join(f"{k}.csv" for k in SCHEMAS)
        raise DataError(str(directory), f"no data files found (expected {kinds} or .parquet)")
    return found


def load_dir(directory: Path, workspace: Workspace | None = None) -> dict[str, pl.DataFrame]:
    """Read and validate every contract file in ``directory``; nothing is written."""
    files = find_files(directory)
    frames = {kind: validate(read_raw(path), kind, str(path)) for kind, path in files.items()}
    if "interactions" in frames:
        items = _ids(frames, workspace, "items", "item_id")
        if items is None:
            raise DataError(str(files["interactions"]), "interactions need items (none ingested)")
        users = _ids(frames, workspace, "users", "user_id")
        check_references(frames["interactions"], str(files["interactions"]), items, users)
    return {kind: drop_row_index(frame) for kind, frame in frames.items()}


def _ids(
    frames: dict[str, pl.DataFrame], workspace: Workspace | None, kind: str, key: str
) -> pl.Series | None:
    if kind in frames:
        return frames[kind][key]
    if workspace is not None and workspace.has_table(kind):
        return workspace.table(kind)[key]
    return None


def ingest(directory: Path, workspace: Workspace) -> dict[str, int]:
    """Validate all files first, then replace their tables in one transaction."""
    frames = load_dir(directory, workspace)
    workspace.write_tables(frames)
    return {kind: frame.height for kind, frame in frames.items()}
