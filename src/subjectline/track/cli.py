"""``subjectline serve`` and ``subjectline track ...``: the tracking service and its store."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from subjectline.workspace import DEFAULT_WORKSPACE

out = Console()
err = Console(stderr=True)

DbOption = typer.Option(
    None, "--db", help="Event store URL (default: $SUBJECTLINE_EVENTS_DB or SQLite in workspace)."
)
WorkspaceOption = typer.Option(DEFAULT_WORKSPACE, "--workspace", "-w", help="Workspace directory.")
KeysOption = typer.Option(
    None, "--keys-file", help="Tracking keys (default: WORKSPACE/tracking_keys.json)."
)


def keys_file(workspace: Path, path: Path | None) -> Path:
    from subjectline.track.tokens import KEYS_FILE

    return path or workspace / KEYS_FILE


def register(app: typer.Typer, bench: typer.Typer) -> None:
    track_app = typer.Typer(help="Event store: migrations, exports, suppressions, keys.")
    app.add_typer(track_app, name="track")

    @app.command("serve")
    def serve_cmd(
        db: str | None = DbOption,
        workspace: Path = WorkspaceOption,
        keys: Path | None = KeysOption,
        host: str = typer.Option("127.0.0.1", help="Address to listen on."),
        port: int = typer.Option(8000, min=1, max=65535),
        rate: float = typer.Option(20.0, help="Requests per second per client; 0 disables."),
        burst: float = typer.Option(60.0, help="Bucket size per client."),
        redis_url: str | None = typer.Option(
            None, help="Share rate limits in Redis, e.g. redis://127.0.0.1:6379/0."
        ),
        max_body: int = typer.Option(16 * 1024, help="Largest request body in bytes."),
        prefetch_window: float = typer.Option(
            10.0, help="Opens this many seconds after the send count as machine opens."
        ),
        forwarded_allow_ips: str | None = typer.Option(
            None, help="Proxies whose X-Forwarded-For is trusted for the client address."
        ),
        workers: int = typer.Option(
            1, min=1, help="Worker processes; with --rate, use --redis-url to share limits."
        ),
    ) -> None:
        """Run the tracking service (open pixel, clicks, conversions, unsubscribes)."""
        import dataclasses
        import logging
        import os

        import uvicorn

        from subjectline.track.service import SERVE_ENV, ServiceSettings, create_app
        from subjectline.track.store import open_store
        from subjectline.track.tokens import KeyRing, TokenSigner

        engine = open_store(db, workspace)
        ring = KeyRing.load(keys_file(workspace, keys))
        settings = ServiceSettings(
            max_body_bytes=max_body,
            rate_per_client=rate,
            burst_per_client=burst,
            redis_url=redis_url,
            prefetch_window_s=prefetch_window,
        )
        # Outages of Redis and the database are logged here, one line each.
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        err.print(f"tracking service on http://{host}:{port} (store: {engine.url!r})")
        app: Any = "subjectline.track.service:app_from_environment"
        if workers == 1:
            app = create_app(engine, TokenSigner(ring), settings)
        else:
            # Each worker process builds its own app (and engine) from this description.
            os.environ[SERVE_ENV] = json.dumps(
                {
                    "db": engine.url.render_as_string(hide_password=False),
                    "keys": str(keys_file(workspace, keys)),
                    "settings": dataclasses.asdict(settings),
                }
            )
            engine.dispose()
        uvicorn.run(
            app,
            factory=workers > 1,
            workers=workers,
            host=host,
            port=port,
            proxy_headers=forwarded_allow_ips is not None,
            forwarded_allow_ips=forwarded_allow_ips,
            server_header=False,
            access_log=False,
        )

    @track_app.command("migrate")
    def migrate_cmd(db: str | None = DbOption, workspace: Path = WorkspaceOption) -> None:
        """Create or upgrade the event store's tables."""
        from subjectline.track.store import open_store

        engine = open_store(db, workspace)
        out.print(f"event store up to date: {engine.url!r}")

    @track_app.command("export")
    def export_cmd(
        campaign_id: str = typer.Option(..., "--campaign-id"),
        out_path: Path = typer.Option(..., "--out", help="CSV or Parquet (by extension)."),
        db: str | None = DbOption,
        workspace: Path = WorkspaceOption,
        count_prefetch_opens: bool = typer.Option(False, help="Count machine opens as opens."),
        count_machine_clicks: bool = typer.Option(
            False, help="Count link-scanner clicks as clicks."
        ),
    ) -> None:
        """Write the campaign's sends with outcomes (input for `experiment analyze --sends`)."""
        from subjectline.errors import SubjectlineError
        from subjectline.track.store import open_store, sends_frame

        frame = sends_frame(
            open_store(db, workspace),
            campaign_id,
            count_prefetch_opens,
            count_machine_clicks=count_machine_clicks,
        )
        if frame.is_empty():
            raise SubjectlineError(f"no delivered sends for campaign {campaign_id!r}")
        out_path.parent.mkdir(parents=True, exist_ok=True)
        if out_path.suffix == ".parquet":
            frame.write_parquet(out_path)
        else:
            frame.write_csv(out_path)
        out.print(f"{frame.height:,} sends -> {out_path}")

    @track_app.command("suppressed")
    def suppressed_cmd(
        db: str | None = DbOption,
        workspace: Path = WorkspaceOption,
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """List the users every campaign leaves out (unsubscribed or suppressed by hand)."""
        from subjectline.track.store import open_store, suppressed_user_ids

        users = sorted(suppressed_user_ids(open_store(db, workspace)))
        if as_json:
            sys.stdout.write(json.dumps({"suppressed": users, "count": len(users)}) + "\n")
        else:
            for user in users:
                out.print(user, highlight=False)

    @track_app.command("suppress")
    def suppress_cmd(
        user_ids: list[str] = typer.Argument(..., help="Users to suppress."),
        reason: str = typer.Option("manual", help="manual, complaint, bounce, mailto..."),
        db: str | None = DbOption,
        workspace: Path = WorkspaceOption,
    ) -> None:
        """Suppress users by hand (e.g. a mailto: unsubscribe or a complaint)."""
        from subjectline.track.store import add_suppressions, open_store

        add_suppressions(open_store(db, workspace), user_ids, reason=reason)
        out.print(f"suppressed {len(user_ids)} user(s)")

    @track_app.command("keys")
    def keys_cmd(
        workspace: Path = WorkspaceOption,
        keys: Path | None = KeysOption,
        rotate: bool = typer.Option(False, help="Add a new signing key; old ones still verify."),
        retire: str | None = typer.Option(None, help="Remove the key with this id."),
    ) -> None:
        """Create, rotate or retire the link-signing keys (ids only are printed)."""
        import secrets
        import time

        from subjectline.errors import SubjectlineError
        from subjectline.track.tokens import KeyRing

        path = keys_file(workspace, keys)
        ring = KeyRing.load(path)
        if rotate or retire:
            entries = list(ring.keys)
            if rotate:
                kid = f"k{int(time.time())}"
                entries.insert(0, (kid, secrets.token_bytes(32)))
            if retire:
                entries = [e for e in entries if e[0] != retire]
            if not entries:
                raise SubjectlineError("cannot retire the last key")
            ring = KeyRing(tuple(entries), webhook_secret=ring.webhook_secret)
            path.write_text(ring.to_json())
        out.print(
            f"keys in {path}: {', '.join(k for k, _ in ring.keys)} (signing: {ring.active_kid})"
        )
