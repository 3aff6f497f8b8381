"""``subjectline serve-api`` (the subject API) and ``subjectline serve-queue``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import typer
from rich.console import Console

from subjectline.workspace import DEFAULT_WORKSPACE

err = Console(stderr=True)
WorkspaceOption = typer.Option(DEFAULT_WORKSPACE, "--workspace", "-w", help="Workspace directory.")


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command("serve-api")
    def serve_api_cmd(
        workspace: Path = WorkspaceOption,
        campaign: list[Path] = typer.Option(
            [],
            "--campaign",
            help="A campaign folder (or its campaign.parquet) to serve besides those found "
            "in and beside the workspace; repeatable.",
        ),
        db: str | None = typer.Option(
            None, "--db", help="Event store URL for unsubscribes (default: the workspace's)."
        ),
        host: str = typer.Option("127.0.0.1", help="Address to listen on."),
        port: int = typer.Option(8100, min=1, max=65535),
        rate: float = typer.Option(1000.0, help="Requests per second per API key; 0 disables."),
        burst: float = typer.Option(2000.0, help="Bucket size per API key."),
        refresh: float = typer.Option(
            30.0, min=1.0, help="Seconds between checks of the workspace for new titles."
        ),
    ) -> None:
        """Serve subjects at send time: GET/POST /v1/subject, OpenAPI docs at /docs.

        API keys come from $SUBJECTLINE_API_KEYS (comma-separated; sent as a bearer
        token). The latest campaign in the workspace is the one served (no approval
        state exists yet)."""
        import logging

        import uvicorn

        from subjectline.errors import SubjectlineError
        from subjectline.serve.api import SubjectAPI
        from subjectline.serve.app import KEYS_ENV, ApiSettings, create_app, parse_keys
        from subjectline.track.store import open_store

        try:
            settings = ApiSettings(
                parse_keys(os.environ.get(KEYS_ENV)), rate, burst, refresh_s=refresh
            )
        except ValueError as exc:
            raise SubjectlineError(str(exc)) from exc
        try:
            api = SubjectAPI(workspace, open_store(db, workspace), campaigns=campaign)
        except FileNotFoundError as exc:
            raise SubjectlineError(str(exc)) from exc
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        err.print(f"subject API on http://{host}:{port} ({api.status()})", highlight=False)
        uvicorn.run(
            create_app(api, settings),
            host=host,
            port=port,
            server_header=False,
            access_log=False,
        )

    @app.command("serve-queue")
    def serve_queue_cmd(
        workspace: Path = WorkspaceOption,
        generate: bool = typer.Option(
            False, "--generate", help="Generate titles for the pending themes now."
        ),
        backend: str = typer.Option("local", help="local, openai or template"),
        limit: int = typer.Option(50, min=1, help="Themes to generate at most."),
    ) -> None:
        """The themes the API met without titles; --generate fills the title cache."""
        from subjectline.generate import make_backend
        from subjectline.serve.queue import GenerationQueue, drain

        result: dict[str, object]
        if generate:
            result = dict(drain(workspace, make_backend(backend), limit=limit))
        else:
            result = {
                "pending": [
                    {"theme_key": q.theme.key, "label": q.theme.label, "requests": q.requests}
                    for q in GenerationQueue(workspace).entries(pending_only=True)
                ]
            }
        sys.stdout.write(json.dumps(result) + "\n")
