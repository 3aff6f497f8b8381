"""Which campaigns the API serves: campaign folders found beside or in the workspace.

A campaign folder holds ``campaign.parquet`` and ``report.json`` (what ``subjectline
campaign --out DIR`` writes). There is no approval state yet, so *the latest approved
campaign* is the latest one an ``Approval`` accepts, and the default approval accepts
every campaign: the newest ``report.json`` wins. Plugging in a real approval flag means
passing another ``Approval`` (a callable on :class:`CampaignInfo`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from subjectline.errors import DataError

CAMPAIGN_FILE = "campaign.parquet"  # as pipeline.campaign writes them
REPORT_FILE = "report.json"


@dataclass(frozen=True)
class CampaignInfo:
    """A campaign folder. ``campaign_id`` is the folder's name, as ``deliver`` names it
    by default; ``report_id`` is the id the campaign job was run with (``--id``)."""

    campaign_id: str
    report_id: str | None
    path: Path  # campaign.parquet
    written_at: float  # mtime of report.json: written last, atomically

    def names(self) -> set[str]:
        return {self.campaign_id, *([self.report_id] if self.report_id else [])}


Approval = Callable[[CampaignInfo], bool]


def every_campaign_is_approved(_campaign: CampaignInfo) -> bool:
    """Until campaigns carry an approval state (issue 17), every campaign counts."""
    return True


def campaign_info(path: Path) -> CampaignInfo:
    """The campaign in ``path`` (a folder, or its campaign.parquet)."""
    folder = path if path.is_dir() else path.parent
    parquet = folder / CAMPAIGN_FILE
    report = folder / REPORT_FILE
    if not parquet.exists() or not report.exists():
        raise DataError(str(folder), f"needs both {CAMPAIGN_FILE} and {REPORT_FILE}")
    try:
        report_id = json.loads(report.read_text()).get("campaign_id")
    except (OSError, ValueError) as exc:
        raise DataError(str(report), f"is not a JSON report: {exc}") from exc
    return CampaignInfo(folder.name, report_id, parquet, report.stat().st_mtime)


def find_campaigns(workspace: Path, extra: Sequence[Path] = ()) -> list[CampaignInfo]:
    """Campaign folders in the workspace (any depth up to 3), in its parent folder (the
    demo writes ``out/demo/campaign.parquet`` beside ``out/demo/workspace``), and the
    ``extra`` folders or files given; oldest first."""
    found: dict[Path, CampaignInfo] = {}

    def consider(candidates: Iterable[Path]) -> None:
        for parquet in candidates:
            if (parquet.parent / REPORT_FILE).exists():
                info = campaign_info(parquet)
                found[info.path.resolve()] = info

    for pattern in (CAMPAIGN_FILE, f"*/{CAMPAIGN_FILE}", f"*/*/{CAMPAIGN_FILE}"):
        consider(workspace.glob(pattern))
    consider(workspace.resolve().parent.glob(CAMPAIGN_FILE))
    for path in extra:
        found_one = campaign_info(path)
        found[found_one.path.resolve()] = found_one
    return sorted(found.values(), key=lambda c: (c.written_at, c.campaign_id))


def latest_approved(
    campaigns: Sequence[CampaignInfo], approved: Approval = every_campaign_is_approved
) -> CampaignInfo | None:
    accepted = [c for c in campaigns if approved(c)]
    return accepted[-1] if accepted else None
