"""``subjectline deliver ...``: render a campaign and hand it to an ESP, to files or SMTP."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress

from subjectline.workspace import DEFAULT_WORKSPACE, Workspace

out = Console(stderr=True)

CampaignOption = typer.Option(
    ..., "--campaign", help="campaign.parquet (user_id, subject, arm, item_ids, theme_*)."
)
CampaignIdOption = typer.Option(
    None, "--campaign-id", help="Stable id of this campaign (default: the campaign's folder name)."
)
WorkspaceOption = typer.Option(DEFAULT_WORKSPACE, "--workspace", "-w", help="Workspace directory.")
DbOption = typer.Option(None, "--db", help="Event store URL (default: SQLite in the workspace).")
TrackingUrlOption = typer.Option(
    "http://127.0.0.1:8000", "--tracking-url", help="Public base URL of `subjectline serve`."
)
AddressesOption = typer.Option(
    None,
    "--addresses",
    help="CSV/Parquet with user_id,email; without it every user gets USER@example.invalid.",
)


def _prepare(
    campaign: Path,
    campaign_id: str | None,
    workspace: Path,
    db: str | None,
    tracking_url: str,
    addresses: Path | None,
) -> tuple[Any, list[Any], dict[str, int], Any]:
    """Build and render the campaign's sends, suppressed users left out; register them."""

    from subjectline.deliver.address import (
        AddressBook,
        example_invalid_address,
        read_table,
        suppressed_addresses,
    )
    from subjectline.deliver.build import build_sends
    from subjectline.deliver.render import RenderConfig, Renderer
    from subjectline.track.store import open_store, suppressed_user_ids
    from subjectline.track.tokens import KEYS_FILE, KeyRing, TokenSigner

    frame = read_table(campaign)
    ws = Workspace(workspace)
    users = ws.table("users") if ws.has_table("users") else None
    engine = open_store(db, workspace)
    config = RenderConfig(tracking_base_url=tracking_url)
    resolver = AddressBook.from_file(addresses) if addresses else example_invalid_address
    built = build_sends(
        frame,
        ws.table("items"),
        users,
        campaign_id or campaign.resolve().parent.name,
        config=config,
        resolve_address=resolver,
        suppressed=suppressed_user_ids(engine),
        source=str(campaign),
        suppressed_addresses=suppressed_addresses(engine),
    )
    renderer = Renderer(TokenSigner(KeyRing.load(workspace / KEYS_FILE)), config)
    rendered = []
    with Progress(console=out, transient=True) as progress:
        task = progress.add_task("rendering", total=len(built.sends))
        for send in built.sends:
            rendered.append(renderer.render(send))
            progress.advance(task)
    counts = {
        "sends": len(rendered),
        "suppressed": built.suppressed,
        "no_address": built.no_address,
        "shared_address": built.shared_address,
    }
    return engine, rendered, counts, config


def register(app: typer.Typer, bench: typer.Typer) -> None:
    deliver_app = typer.Typer(help="Render a campaign and deliver it (ESP batch, .eml, SMTP).")
    app.add_typer(deliver_app, name="deliver")

    @deliver_app.command("export")
    def export_cmd(
        campaign: Path = CampaignOption,
        fmt: str = typer.Option(
            "jsonl",
            "--format",
            help="csv, jsonl (generic ESP batch), eml, or an ESP's import: listmonk, "
            "mailchimp, klaviyo, braze.",
        ),
        out_path: Path = typer.Option(..., "--out", help="Batch file, or directory for eml."),
        campaign_id: str | None = CampaignIdOption,
        workspace: Path = WorkspaceOption,
        db: str | None = DbOption,
        tracking_url: str = TrackingUrlOption,
        addresses: Path | None = AddressesOption,
        again: bool = typer.Option(
            False,
            "--again",
            help="Also write sends handed off before (their users get the email twice if the "
            "ESP sends both batches).",
        ),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Write an ESP batch (per-user subject and merge fields) or one .eml per send.

        Sends that were handed off before (an earlier export, or SMTP) are left out, so
        exporting twice does not hand the ESP the same emails twice; with nothing new,
        nothing is written and --out is left as it is.
        """
        from subjectline.deliver.esp import handed_off, write_batch, write_eml
        from subjectline.deliver.esp_formats import ESPS, write_esp
        from subjectline.errors import DataError
        from subjectline.track.store import mark_sent, register_sends

        if fmt not in ("csv", "jsonl", "eml", *ESPS):
            raise DataError("--format", f"must be csv, jsonl, eml, {', '.join(ESPS)}; not {fmt!r}")
        subject_template = None
        engine, rendered, counts, config = _prepare(
            campaign, campaign_id, workspace, db, tracking_url, addresses
        )
        before = {} if again else handed_off(engine, [e.send.send_id for e in rendered])
        if before:
            first = min(before.values())
            out.print(
                f"[yellow]warning:[/yellow] {len(before)} of {len(rendered)} sends of campaign "
                f"{rendered[0].send.campaign_id!r} were handed off before (first at "
                f"{first:%Y-%m-%d %H:%M} UTC) and are left out; --again writes them too.",
                highlight=False,
                soft_wrap=True,
            )
            rendered = [e for e in rendered if e.send.send_id not in before]
        written = 0
        if rendered or not before:  # an empty campaign still gets its (empty) batch
            register_sends(engine, (e.to_send_record() for e in rendered))
            if fmt == "eml":
                written = write_eml(rendered, out_path, config.from_address)
            elif fmt in ESPS:
                export = write_esp(rendered, out_path, fmt)
                written, subject_template = export.rows, export.subject_template
            else:
                written = write_batch(rendered, out_path, fmt)  # type: ignore[arg-type]
            # Handed off: the ESP sends now, so outcomes are attributed from this moment.
            mark_sent(engine, [e.send.send_id for e in rendered])
        else:
            out.print(f"nothing new to export; {out_path} left as it is.", highlight=False)
        result = {
            **counts,
            "written": written,
            "already_exported": len(before),
            "format": fmt,
            "out": str(out_path),
        }
        if subject_template is not None:
            result["subject_template"] = subject_template
        if as_json:
            sys.stdout.write(json.dumps(result) + "\n")
        else:
            out.print(result)

    @deliver_app.command("smtp")
    def smtp_cmd(
        campaign: Path = CampaignOption,
        host: str = typer.Option("127.0.0.1"),
        port: int = typer.Option(25, min=1, max=65535),
        starttls: bool = typer.Option(False, help="Upgrade with STARTTLS."),
        ssl: bool = typer.Option(False, "--ssl", help="Implicit TLS (port 465)."),
        username: str | None = typer.Option(None, help="Password from $SUBJECTLINE_SMTP_PASSWORD."),
        rate: float = typer.Option(10.0, help="Messages per second at most."),
        max_attempts: int = typer.Option(4, min=1),
        retry_rejected: bool = typer.Option(
            False, "--retry-rejected", help="Try again sends a server rejected (5xx) before."
        ),
        campaign_id: str | None = CampaignIdOption,
        workspace: Path = WorkspaceOption,
        db: str | None = DbOption,
        tracking_url: str = TrackingUrlOption,
        addresses: Path | None = AddressesOption,
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Send every email over SMTP, at most once each (rerun safely after a crash).

        Exit status: 0 when nothing is left to do; 1 when a server rejected a message in
        this run (5xx) or a send is in doubt, which a person must look at; 75
        (EX_TEMPFAIL) when only temporary failures are left, which a later rerun retries.
        """
        from subjectline.deliver.smtp import SmtpDelivery, SmtpSettings

        engine, rendered, counts, config = _prepare(
            campaign, campaign_id, workspace, db, tracking_url, addresses
        )
        settings = SmtpSettings(
            host=host,
            port=port,
            starttls=starttls,
            use_ssl=ssl,
            username=username,
            password=os.environ.get("SUBJECTLINE_SMTP_PASSWORD"),
            rate_per_second=rate,
            max_attempts=max_attempts,
        )
        delivery = SmtpDelivery(
            engine, settings, from_address=config.from_address, retry_rejected=retry_rejected
        )
        with Progress(console=out, transient=True) as progress:
            task = progress.add_task("sending", total=len(rendered))
            report = delivery.deliver(rendered, on_sent=lambda _: progress.advance(task))
        result = {
            **counts,
            **report.as_dict(),
            "failed_send_ids": report.failed,
            "deferred_send_ids": report.deferred,
            "in_doubt_send_ids": report.in_doubt,
        }
        if as_json:
            sys.stdout.write(json.dumps(result) + "\n")
        else:
            out.print(result)
        if report.exit_code:
            raise typer.Exit(report.exit_code)
