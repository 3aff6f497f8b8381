"""A command starts without dependency noise on stderr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CLEAN = Path(__file__).parent / "clean.jsonl"


def test_check_prints_no_pkg_resources_warning(tmp_path: Path) -> None:
    cases = tmp_path / "one.jsonl"
    cases.write_text(CLEAN.read_text(encoding="utf-8").splitlines()[0] + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "subjectline", "check", "--cases", str(cases), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr
    assert '"title"' in done.stdout
    assert "pkg_resources" not in done.stderr
