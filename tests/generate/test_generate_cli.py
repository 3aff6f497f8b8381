"""``subjectline generate`` by hand."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from subjectline.cli import app


def test_generate_json_with_the_template_backend(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "generate",
            "--theme-label",
            "Running shoes",
            "--kind",
            "category",
            "--key",
            "category:Sports > Running > Shoes",
            "--backend",
            "template",
            "--n",
            "3",
            "--json",
            "-w",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["candidates"][0]["text"] == "New in Running shoes"
    assert payload["stats"]["llm_calls"] == 0 and len(payload["candidates"]) == 3


def test_generate_refuses_bad_options(tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["generate", "--theme-label", "X", "--backend", "template", "-w", str(tmp_path)]
    assert runner.invoke(app, [*base, "--kind", "nonsense"]).exit_code == 2
    assert runner.invoke(app, [*base, "--tone", "angry"]).exit_code == 2
    assert runner.invoke(app, [*base[:-3], "--backend", "gpt", "-w", str(tmp_path)]).exit_code == 2
