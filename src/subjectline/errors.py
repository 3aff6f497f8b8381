"""Errors that the CLI turns into a clear message and a non-zero exit."""

from __future__ import annotations


class SubjectlineError(Exception):
    """Base for every error a user can act on."""


class DataError(SubjectlineError):
    """Bad input data: names the file, the row (1-based, header excluded) and the reason."""

    def __init__(self, file: str, reason: str, row: int | None = None, column: str | None = None):
        self.file = file
        self.row = row
        self.column = column
        self.reason = reason
        where = file
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {reason}")


class AssetError(SubjectlineError):
    """A bundled model or dataset could not be found or fetched."""
