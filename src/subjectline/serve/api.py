"""A subject at send time, from what the workspace already holds; no LLM on this path.

``SubjectAPI`` answers two questions:

- *this user's subject*: a user of the latest approved campaign (see
  :mod:`subjectline.serve.campaigns`), or of a named one, gets that campaign's row;
- *this basket's subject*: the basket's theme is found from its items
  (``assign_themes``), the user (or the basket) is put in an arm of the triggered
  experiment by the same salted hash campaigns use, and the arm's titles are checked by
  the safety gate against exactly these items (``theme_contexts`` and
  ``choose_for_every_email``, as a campaign checks them): approved titles of the theme
  (what a campaign shipped), then cached candidates, then the safe control. A theme with
  no titles at all is queued for generation and gets the control meanwhile.

Everything the answer depends on is loaded into memory at start and on ``refresh()``,
so the same question gets the same answer until the workspace changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
import polars as pl
import sqlalchemy as sa

from subjectline.data.contract import Item, items_from_frame, promotions_from_frame
from subjectline.experiment.assignment import unit_hash
from subjectline.generate import cache as title_cache
from subjectline.generate.template import template_titles
from subjectline.pipeline.campaign import (
    FACTS_ARM,
    LLM_ARM,
    CampaignConfig,
    campaign_experiment,
    choose_facts_title,
)
from subjectline.pipeline.choose import ThemeContexts, choose_for_every_email, theme_contexts
from subjectline.safety import CheckContext, category_words
from subjectline.serve.campaigns import (
    Approval,
    CampaignInfo,
    every_campaign_is_approved,
    find_campaigns,
    latest_approved,
)
from subjectline.serve.queue import GenerationQueue
from subjectline.themes.contract import Theme
from subjectline.themes.extract import ThemeConfig, assign_themes, item_features
from subjectline.themes.facts import assignment_with_every_email_facts
from subjectline.track.schema import suppressions
from subjectline.workspace import Workspace

log = logging.getLogger("subjectline.serve")

TRIGGERED_EXPERIMENT = "triggered"
Source = Literal["campaign", "approved", "cache", "control", "fallback"]


class SubjectError(Exception):
    """A question the API cannot answer; ``status`` is the HTTP status to send."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Answer:
    """What the caller puts in the email. ``subject`` is None only when the user must
    get no email (``reason`` says why)."""

    subject: str | None
    theme: dict[str, str] | None
    arm: str | None
    variant: str | None
    source: Source | None
    items: list[str]
    campaign: str | None = None
    reason: str | None = None
    queued: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "theme": self.theme,
            "arm": self.arm,
            "variant": self.variant,
            "source": self.source,
            "items": self.items,
            "campaign": self.campaign,
            "reason": self.reason,
            "queued": self.queued,
        }


@dataclass(frozen=True)
class ServeSettings:
    max_items: int = 50
    char_budget: int = 60
    # The triggered experiment's arms, as a campaign splits them (controls, then llm).
    campaign_config: CampaignConfig = field(
        default_factory=lambda: CampaignConfig(campaign_id=TRIGGERED_EXPERIMENT)
    )
    themes: ThemeConfig = field(default_factory=ThemeConfig)
    # None: the clock at each request ("new" and promotion windows are checked then).
    as_of: datetime | None = None
    answer_cache_size: int = 100_000


def variant_of(arm: str | None, subject: str) -> str:
    """A short, stable name of the subject shown, for analysis by variant."""
    return f"{arm or 'none'}:{hashlib.sha256(subject.encode()).hexdigest()[:10]}"


@dataclass
class _Campaign:
    info: CampaignInfo
    rows: dict[str, tuple[str, str, str, str, list[str], str]]  # user -> row
    approved: dict[str, list[str]]  # theme_key -> LLM subjects it shipped, most sent first


def _load_campaign(info: CampaignInfo) -> _Campaign:
    frame = pl.read_parquet(info.path)
    needed = ("user_id", "theme_key", "theme_label", "subject", "arm", "item_ids")
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise SubjectError(500, f"{info.path}: missing column(s) {missing}")
    if "subject_source" not in frame.columns:
        frame = frame.with_columns(pl.lit("candidate").alias("subject_source"))
    rows = {
        str(u): (t, label, s, arm, list(ids or []), src)
        for u, t, label, s, arm, ids, src in frame.select(*needed, "subject_source").iter_rows()
    }
    shipped = (
        frame.filter((pl.col("arm") == LLM_ARM) & (pl.col("subject_source") == "candidate"))
        .group_by("theme_key", "subject")
        .len()
        .sort(["theme_key", "len", "subject"], descending=[False, True, False])
    )
    approved: dict[str, list[str]] = {}
    for key, subject, _n in shipped.iter_rows():
        approved.setdefault(key, []).append(subject)
    return _Campaign(info, rows, approved)


@dataclass
class _State:
    """What answers depend on, loaded together and swapped in one assignment."""

    items_frame: pl.DataFrame
    item_rows: dict[str, dict[str, Any]]
    catalog: dict[str, Item]
    promotions: list[Any]
    brands: list[str]
    catalog_words: frozenset[str]
    labels: dict[str, tuple[str, str]]  # theme key -> (label, root) over the whole catalog
    campaign_infos: list[CampaignInfo]
    latest: _Campaign | None
    campaigns: dict[str, _Campaign]
    cached_titles: dict[str, list[str]]


class SubjectAPI:
    """The service's logic; the FastAPI app (``serve.app``) is a thin layer over it."""

    def __init__(
        self,
        workspace: Path | str,
        events: sa.Engine | None = None,
        settings: ServeSettings | None = None,
        campaigns: Sequence[Path] = (),
        approved: Approval = every_campaign_is_approved,
    ):
        self.workspace = Workspace(workspace)
        self.events = events
        self.settings = settings or ServeSettings()
        self.extra_campaigns = tuple(campaigns)
        self.approved = approved
        self.queue = GenerationQueue(self.workspace.root)
        self._lock = threading.Lock()
        self._answers: OrderedDict[Any, Answer] = OrderedDict()
        self._queued: set[str] = set()
        self._experiment = campaign_experiment(self.settings.campaign_config)
        self._stamp: tuple[Any, ...] | None = None
        self.refresh()

    # ------------------------------------------------------------------ loading
    def _workspace_stamp(self, found: Sequence[CampaignInfo]) -> tuple[Any, ...]:
        db = self.workspace.db_path
        files = [db, db.with_name(db.name + ".wal")]
        stamps = tuple(f.stat().st_mtime_ns if f.exists() else 0 for f in files)
        return (stamps, tuple((c.path, c.written_at) for c in found))

    def refresh(self, force: bool = False) -> bool:
        """Reload catalog, titles and campaigns when the workspace changed; True if it did.

        A campaign job holding the workspace's DuckDB lock makes this a no-op until the
        next call: the API keeps answering from what it has."""
        # One scan of the campaign folders: the stamp and the state loaded agree.
        found = find_campaigns(self.workspace.root, self.extra_campaigns)
        stamp = self._workspace_stamp(found)
        if not force and stamp == self._stamp:
            return False
        try:
            state = self._load(found)
        except duckdb.IOException as exc:  # another process is writing the workspace
            if self._stamp is None:
                raise
            log.warning("workspace busy, keeping the loaded state: %s", exc)
            return False
        with self._lock:
            self._state = state
            self._answers.clear()
            self._queued = {k for k in self._queued if not self._has_titles(k)}
            self._stamp = stamp
        return True

    def _load(self, found: list[CampaignInfo]) -> _State:
        ws = self.workspace
        items = ws.table("items")
        promotions = ws.table("promotions") if ws.has_table("promotions") else None
        load_as_of = self.settings.as_of or datetime.now(UTC)
        _pairs, features = item_features(items, load_as_of, self.settings.themes)
        latest = latest_approved(found, self.approved)
        return _State(
            items_frame=items,
            item_rows={r["item_id"]: r for r in items.iter_rows(named=True)},
            catalog={i.item_id: i for i in items_from_frame(items)},
            promotions=promotions_from_frame(promotions) if promotions is not None else [],
            brands=sorted(items["brand"].drop_nulls().unique()),
            catalog_words=category_words(items["category"].unique()),
            labels={
                k: (label, root)
                for k, label, root in features.select("key", "label", "root").iter_rows()
            },
            campaign_infos=found,
            latest=_load_campaign(latest) if latest else None,
            campaigns={},
            cached_titles=self._load_cached_titles(),
        )

    def _load_cached_titles(self) -> dict[str, list[str]]:
        """Accepted cached candidates by theme key (any prompt or model), oldest first."""
        if not self.workspace.has_table(title_cache.TABLE):
            return {}
        with self.workspace.connect(read_only=True) as con:
            rows = con.execute(
                f"""SELECT split_part(theme_key, '@', 1) AS key, text
                    FROM {title_cache.TABLE} WHERE text IS NOT NULL
                    ORDER BY key, created_at, theme_key, idx"""
            ).fetchall()
        found: dict[str, list[str]] = {}
        for key, text in rows:
            titles = found.setdefault(key, [])
            if text not in titles:
                titles.append(text)
        return found

    @property
    def latest_campaign(self) -> str | None:
        latest = self._state.latest
        return latest.info.campaign_id if latest else None

    def _campaign(self, name: str | None) -> _Campaign:
        latest = self._state.latest
        if name is None:
            if latest is None:
                raise SubjectError(404, "no approved campaign in the workspace")
            return latest
        if latest is not None and name in latest.info.names():
            return latest
        loaded = self._state.campaigns
        if name not in loaded:
            info = next(
                (c for c in reversed(self._state.campaign_infos) if name in c.names()), None
            )
            if info is None:
                known = sorted({n for c in self._state.campaign_infos for n in c.names()})
                raise SubjectError(404, f"unknown campaign {name!r}; known: {known}")
            loaded[name] = _load_campaign(info)
        return loaded[name]

    def _has_titles(self, theme_key: str) -> bool:
        latest = self._state.latest
        return bool(self._state.cached_titles.get(theme_key)) or bool(
            latest and latest.approved.get(theme_key)
        )

    # ------------------------------------------------------------------ answers
    def suppression(self, user_id: str) -> str | None:
        """Why ``user_id`` must get no email (their suppression reason), else None."""
        if self.events is None:
            return None
        with self.events.connect() as conn:
            reason = conn.execute(
                sa.select(suppressions.c.reason).where(suppressions.c.user_id == user_id)
            ).scalar()
        return str(reason) if reason is not None else None

    def for_user(self, user_id: str, campaign: str | None = None) -> Answer:
        """The subject ``user_id`` has in the campaign (default: the latest approved)."""
        found = self._campaign(campaign)
        reason = self.suppression(user_id)
        if reason is not None:
            return Answer(None, None, None, None, None, [], found.info.campaign_id,
                          f"suppressed: {reason}")  # fmt: skip
        row = found.rows.get(user_id)
        if row is None:
            raise SubjectError(
                404,
                f"user {user_id!r} is not in campaign {found.info.campaign_id!r}; "
                "send their items to POST /v1/subject for a subject of their own",
            )
        theme_key, label, subject, arm, item_ids, _source = row
        return Answer(
            subject=subject,
            theme={"key": theme_key, "label": label},
            arm=arm,
            variant=variant_of(arm, subject),
            source="campaign",
            items=item_ids,
            campaign=found.info.campaign_id,
        )

    def for_basket(self, items: Sequence[str | Item], user_id: str | None = None) -> Answer:
        """A checked subject for an email holding ``items`` (catalog ids, or whole item
        records for items the catalog does not hold yet: untrusted text like any other)."""
        if not items:
            raise SubjectError(422, "items: give at least one item")
        if len(items) > self.settings.max_items:
            raise SubjectError(422, f"items: at most {self.settings.max_items} items")
        records: list[Item] = []
        for index, item in enumerate(items):
            if isinstance(item, Item):
                records.append(item)
            elif item in self._state.catalog:
                records.append(self._state.catalog[item])
            else:
                raise SubjectError(422, f"items[{index}]: unknown item_id {item!r}")
        ids = [r.item_id for r in records]
        if len(set(ids)) != len(ids):
            raise SubjectError(422, "items: an item_id appears twice")
        if user_id is not None:
            reason = self.suppression(user_id)
            if reason is not None:
                return Answer(None, None, None, None, None, ids, None, f"suppressed: {reason}")
        # Records sent inline are part of the question: the same id may carry other text.
        inline = tuple(
            json.dumps(r.to_row(), sort_keys=True, default=str)
            for r in records
            if self._state.catalog.get(r.item_id) is not r
        )
        key = (user_id, tuple(ids), inline)
        with self._lock:
            cached = self._answers.get(key)
            if cached is not None:
                self._answers.move_to_end(key)
                return cached
        answer = self._choose(records, user_id)
        with self._lock:
            self._answers[key] = answer
            if len(self._answers) > self.settings.answer_cache_size:
                self._answers.popitem(last=False)
        return answer

    def arm_for(self, unit: str) -> str:
        """The triggered experiment's arm for ``unit`` (a user id, or a basket digest)."""
        exp = self._experiment
        bucket = float(unit_hash([f"{exp.id}:{exp.salt}:{unit}"])[0])
        edge = 0.0
        for arm in exp.arms:
            edge += arm.share
            if bucket < edge:
                return arm.name
        return exp.arms[-1].name

    def basket_theme(self, records: Sequence[Item], as_of: datetime) -> Theme:
        """The theme ``assign_themes`` finds for one email holding ``records``, labelled
        as the whole catalog labels it, with the kinds and brands the email holds."""
        rows = [
            self._state.item_rows.get(r.item_id)
            if self._state.catalog.get(r.item_id) is r
            else r.to_row()
            for r in records
        ]
        frame = pl.DataFrame(rows, schema=self._state.items_frame.schema, orient="row")
        recs = pl.DataFrame(
            {"user_id": ["basket"] * len(records), "item_id": [r.item_id for r in records],
             "rank": list(range(1, len(records) + 1))},
        )  # fmt: skip
        assignment = assign_themes(recs, frame, as_of, self.settings.themes)
        assignment = assignment_with_every_email_facts(assignment, recs, frame)
        theme = next(iter(assignment.themes.values()))
        if theme.key in self._state.labels:
            label, root = self._state.labels[theme.key]
            theme = replace(theme, label=label, root_category=root)
        return theme

    def _contexts(self, records: Sequence[Item]) -> tuple[Theme, ThemeContexts]:
        as_of = self.settings.as_of or datetime.now(UTC)
        theme = self.basket_theme(records, as_of)
        state = self._state
        contexts = theme_contexts(
            theme,
            records,
            state.promotions,
            as_of,
            state.brands,
            state.catalog_words,
            self.settings.char_budget,
        )
        return theme, contexts

    def _choose(self, records: Sequence[Item], user_id: str | None) -> Answer:
        theme, contexts = self._contexts(records)
        ids = [r.item_id for r in records]
        unit = user_id if user_id is not None else "basket:" + "\x00".join(sorted(ids))
        arm = self.arm_for(unit)
        latest = self._state.latest
        approved = list(latest.approved.get(theme.key, [])) if latest else []
        cached = [t for t in self._state.cached_titles.get(theme.key, []) if t not in approved]
        queued = False
        if not approved and not cached:
            queued = self._enqueue(theme)
        text, source = self._pick(arm, theme, contexts, approved, cached)
        # Theme items first, as a campaign orders an email.
        return Answer(
            subject=text,
            theme={"key": theme.key, "label": theme.label},
            arm=arm,
            variant=variant_of(arm, text),
            source=source,
            items=ids,
            queued=queued,
        )

    def _pick(
        self,
        arm: str,
        theme: Theme,
        contexts: ThemeContexts,
        approved: list[str],
        cached: list[str],
    ) -> tuple[str, Source]:
        """The subject ``arm`` ships for the email and where it came from."""
        budget = self.settings.char_budget
        templates = template_titles(theme, char_budget=budget)
        source: Source
        if arm == LLM_ARM:
            choice = choose_for_every_email([*approved, *cached], contexts, fallbacks=templates)
            if choice.source == "candidate":
                source = "approved" if choice.text in approved else "cache"
            else:
                source = "fallback"
        elif arm == FACTS_ARM:
            choice = choose_facts_title(theme, contexts, templates, budget)
            source = "control" if choice.source == "candidate" else "fallback"
        else:
            choice = choose_for_every_email(templates, contexts)
            source = "control" if choice.source == "candidate" else "fallback"
        return choice.text, source

    def warm(self) -> None:
        """Check one catalog item's subjects in every arm (nothing cached or queued).

        The gate loads some of what it needs on first use: the quality judge's sentence
        encoder imports torch and transformers, seconds of work and about 300,000
        long-lived Python objects. Warmed at start, that is loaded before the app
        freezes the heap out of the garbage collector's sight (``gc.freeze``); loaded by
        the first basket a caller sends, every later full collection walks it, a pause
        of 150 to 300 ms that stalls every request in flight."""
        record = next(iter(self._state.catalog.values()), None)
        if record is None:
            return
        theme, contexts = self._contexts([record])
        # A title no template holds, so that the judge scores it in every arm's chain.
        probe = [f"{theme.label} picked for you"]
        for arm in self._experiment.arms:
            self._pick(arm.name, theme, contexts, probe, [])

    def _enqueue(self, theme: Theme) -> bool:
        if theme.key in self._queued:
            return True
        try:
            self.queue.add(theme)
        except Exception as exc:  # the answer must not fail because the queue did
            log.warning("could not queue theme %s: %s", theme.key, exc)
            return False
        self._queued.add(theme.key)
        return True

    def gate_context(self, records: Sequence[Item]) -> CheckContext:
        """The context of the email's own items that a basket's subject passed (a
        generic fallback passed it without the theme: ``replace(ctx, theme=None)``)."""
        return self._contexts(records)[1].wide

    def status(self) -> dict[str, Any]:
        return {
            "latest_campaign": self.latest_campaign,
            "campaigns": [c.campaign_id for c in self._state.campaign_infos],
            "items": len(self._state.catalog),
            "themes_with_cached_titles": len(self._state.cached_titles),
            "queued_themes": len(self._queued),
        }
