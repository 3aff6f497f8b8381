"""``subjectline generate``, ``subjectline serve-llm`` and ``subjectline bench generate``."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from subjectline.workspace import DEFAULT_WORKSPACE

out = Console()
err = Console(stderr=True)


def _settings(**kwargs: Any) -> Any:
    from subjectline.generate.records import PromptSettings

    try:
        return PromptSettings(**kwargs)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def _backend(name: str, **options: Any) -> Any:
    from subjectline.generate.backends import make_backend

    try:
        return make_backend(name, **options)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command("generate")
    def generate_cmd(
        theme_label: str = typer.Option(..., "--theme-label", help="The theme's label."),
        kind: str = typer.Option("category", help="category, brand, attribute, ..."),
        key: str | None = typer.Option(None, help="Theme key (default: KIND:LABEL)."),
        item: list[str] = typer.Option([], "--item", help="An item title (repeatable)."),
        brand: list[str] = typer.Option([], "--brand", help="A brand (repeatable)."),
        backend: str = typer.Option("local", help="local, openai or template."),
        n: int = typer.Option(8, "--n", min=1, help="Candidates."),
        tone: str = typer.Option("friendly"),
        cta: bool = typer.Option(False, "--cta/--no-cta", help="End with a call to action."),
        budget: int = typer.Option(60, "--budget", help="Character budget."),
        locale: str = typer.Option("en_US"),
        personalization: bool = typer.Option(False, help="Allow the {first_name} token."),
        prompt_version: str = typer.Option("v1"),
        base_url: str | None = typer.Option(None, help="openai: server URL (.../v1)."),
        model: str | None = typer.Option(None, help="openai: model name."),
        timeout: float | None = typer.Option(None, help="openai: seconds per request."),
        grammar: bool = typer.Option(
            False, "--grammar/--no-grammar", help="openai: send a llama.cpp grammar."
        ),
        parallel: int | None = typer.Option(None, help="local: parallel slots."),
        threads: int | None = typer.Option(None, help="local: CPU threads."),
        workspace: Path = typer.Option(DEFAULT_WORKSPACE, "--workspace", "-w"),
        use_cache: bool = typer.Option(True, "--cache/--no-cache", help="Use title_cache."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Generate candidate titles for one theme, by hand."""
        from subjectline.generate.generate import generate_titles
        from subjectline.themes import THEME_KINDS, Theme
        from subjectline.workspace import Workspace

        if kind not in THEME_KINDS:
            raise typer.BadParameter(f"unknown kind {kind!r}; known: {', '.join(THEME_KINDS)}")
        theme = Theme(
            key=key or f"{kind}:{theme_label}",
            kind=kind,  # type: ignore[arg-type]
            label=theme_label,
            root_category=theme_label,
            example_titles=tuple(item),
            brands=tuple(brand),
        )
        settings = _settings(
            prompt_version=prompt_version,
            tone=tone,
            call_to_action=cta,
            char_budget=budget,
            locale=locale,
            n_candidates=n,
            personalization=personalization,
        )
        options: dict[str, Any] = {}
        if backend == "openai":
            options = {"base_url": base_url, "model": model, "timeout": timeout}
            options["grammar"] = grammar
        elif backend == "local":
            options = {"n_parallel": parallel, "n_threads": threads}
        chosen = _backend(backend, **options)
        titles, stats = generate_titles(
            [theme], chosen, settings, Workspace(workspace) if use_cache else None
        )
        candidates = titles[theme.key]
        if as_json:
            payload = {
                "theme": {"key": theme.key, "kind": theme.kind, "label": theme.label},
                "backend": chosen.name,
                "model": chosen.model_id,
                "candidates": [c.to_dict() for c in candidates],
                "stats": stats.to_dict(),
            }
            sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
            return
        table = Table(title=f"{theme.label} ({chosen.name}:{chosen.model_id})")
        for column in ("#", "title", "chars", "temp", "seed", "cached"):
            table.add_column(column)
        for c in candidates:
            row = (c.index, c.text, len(c.text), c.temperature, c.seed, c.cached)
            table.add_row(*(str(v) for v in row))
        out.print(table)
        out.print(
            f"llm_calls={stats.llm_calls} cache_hits={stats.cache_hits} "
            f"retries={stats.retries} seconds={stats.seconds}"
        )

    @app.command("serve-llm")
    def serve_llm_cmd(
        host: str = typer.Option("127.0.0.1", help="Address to bind."),
        port: int = typer.Option(8088, help="Port (0 picks a free one)."),
        parallel: int = typer.Option(4, min=1, help="Parallel slots."),
        threads: int | None = typer.Option(
            None,
            min=1,
            help="CPU threads (default: $SUBJECTLINE_LLM_THREADS, else 2 if idle, 1 if busy).",
        ),
        model_path: Path | None = typer.Option(None, help="A GGUF file (default: SmolLM2)."),
    ) -> None:
        """Serve the embedded model on an OpenAI-compatible endpoint (/v1/chat/completions,
        /v1/models). Set SUBJECTLINE_LLM_API_KEY to require that key as a bearer token."""
        from subjectline.generate.serve import ENV_SERVER_KEY, serve_forever, start_server

        api_key = os.environ.get(ENV_SERVER_KEY)
        if host not in ("127.0.0.1", "localhost", "::1") and not api_key:
            err.print(f"[yellow]warning:[/yellow] {host} without ${ENV_SERVER_KEY}: open to all")
        _, address = start_server(host, port, model_path, parallel, threads, api_key)
        # One line on stdout, flushed, so a parent process can read where we listen.
        sys.stdout.write(f"listening on {address}/v1\n")
        sys.stdout.flush()
        serve_forever()

    @bench.command("generate")
    def bench_generate_cmd(
        themes: int = typer.Option(6, min=1, help="Distinct synthetic themes."),
        n: int = typer.Option(8, "--n", min=1, help="Candidates per theme."),
        parallel: int = typer.Option(4, min=1, help="local: parallel slots."),
        threads: int | None = typer.Option(None, min=1, help="local: CPU threads."),
        backend: str = typer.Option("local"),
    ) -> None:
        """Titles per second of a backend on fresh themes (no cache); prints one JSON."""
        from subjectline.generate.bench import bench_generate

        chosen = _backend(
            backend,
            **({"n_parallel": parallel, "n_threads": threads} if backend == "local" else {}),
        )
        result = bench_generate(chosen, themes, n)
        result["load_average"] = list(os.getloadavg())
        result["n_threads"] = getattr(getattr(chosen, "config", None), "n_threads", None)
        result["n_parallel"] = getattr(getattr(chosen, "config", None), "n_parallel", None)
        result["at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        sys.stdout.write(json.dumps(result) + "\n")
