"""Themes the API met without titles, waiting for generation.

A SQLite file in the workspace (``serve_queue.sqlite``), not a DuckDB table: DuckDB lets
one process write its file, and the API must never hold the lock a campaign job needs.
SQLite takes short write locks, so every API worker process can append. ``drain`` runs
the generator on the pending themes (outside the request path) and fills the workspace's
title cache, which the API reads on its next refresh.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from subjectline.themes.contract import Theme

QUEUE_FILE = "serve_queue.sqlite"
_DDL = """
CREATE TABLE IF NOT EXISTS queued_themes (
    theme_key TEXT PRIMARY KEY,
    theme TEXT NOT NULL,
    requests INTEGER NOT NULL,
    first_at REAL NOT NULL,
    last_at REAL NOT NULL,
    done_at REAL
)
"""


def theme_to_json(theme: Theme) -> str:
    return json.dumps(asdict(theme), sort_keys=True)


def theme_from_json(text: str) -> Theme:
    data: dict[str, Any] = json.loads(text)
    for name in ("example_titles", "brands", "every_email_kinds", "every_email_brands"):
        if data.get(name) is not None:
            data[name] = tuple(data[name])
    return Theme(**data)


@dataclass(frozen=True)
class QueuedTheme:
    theme: Theme
    requests: int
    first_at: float
    last_at: float
    done_at: float | None


class GenerationQueue:
    """The queue of one workspace; safe to share between threads and processes."""

    def __init__(self, workspace: Path):
        self.path = Path(workspace) / QUEUE_FILE
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=5, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(_DDL)
            conn.commit()
            self._connection = conn
        return self._connection

    def add(self, theme: Theme) -> None:
        """Queue ``theme`` (again: counts the request; after a drain: pending again)."""
        now = time.time()
        with self._lock:
            conn = self._conn()
            conn.execute(
                """INSERT INTO queued_themes VALUES (?, ?, 1, ?, ?, NULL)
                   ON CONFLICT(theme_key) DO UPDATE SET requests = requests + 1,
                       last_at = excluded.last_at, theme = excluded.theme, done_at = NULL""",
                (theme.key, theme_to_json(theme), now, now),
            )
            conn.commit()

    def entries(self, pending_only: bool = False) -> list[QueuedTheme]:
        if not self.path.exists():
            return []
        where = " WHERE done_at IS NULL" if pending_only else ""
        with self._lock:
            rows = (
                self._conn()
                .execute(
                    "SELECT theme, requests, first_at, last_at, done_at FROM queued_themes"
                    f"{where} ORDER BY requests DESC, theme_key"
                )
                .fetchall()
            )
        return [QueuedTheme(theme_from_json(t), n, f, last, d) for t, n, f, last, d in rows]

    def mark_done(self, keys: list[str]) -> None:
        with self._lock:
            conn = self._conn()
            conn.executemany(
                "UPDATE queued_themes SET done_at = ? WHERE theme_key = ?",
                [(time.time(), key) for key in keys],
            )
            conn.commit()

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


def drain(workspace: Path, backend: Any, settings: Any = None, limit: int = 50) -> dict[str, int]:
    """Generate titles for up to ``limit`` pending themes (most requested first) into
    the workspace's title cache; returns the counts."""
    from subjectline.generate import generate_titles
    from subjectline.workspace import Workspace

    queue = GenerationQueue(workspace)
    pending = queue.entries(pending_only=True)[:limit]
    if not pending:
        return {"themes": 0, "candidates": 0, "llm_calls": 0}
    themes = [entry.theme for entry in pending]
    candidates, stats = generate_titles(themes, backend, settings, Workspace(workspace))
    queue.mark_done([t.key for t in themes])
    queue.close()
    return {
        "themes": len(themes),
        "candidates": sum(len(found) for found in candidates.values()),
        "llm_calls": stats.llm_calls,
    }
