"""SMTP delivery with a send rate, retries with backoff, and an idempotency key per send.

For every email the key ``smtp:{send_id}`` is claimed in the event store (committed)
before the SMTP transaction and confirmed after the server accepted it. A rerun skips
confirmed keys, and also keys that were claimed but never confirmed ("in doubt": the
process died while the server may already have taken the message), so a resend after a
crash sends nothing twice. In-doubt keys are listed for an operator to check the mail
server's log and release (``store.release_in_doubt``).

Only failures where the server certainly did not take the message are retried: a
refused connection, a 4xx reply to MAIL/RCPT/DATA (also the reply after the body, where
greylisting and content filters answer). A 4xx still there after ``max_attempts`` is
*deferred*: a rerun tries it again. A 5xx reply is a rejection for good: a rerun skips
it (``retry_rejected`` overrides). A connection lost after the message body went out is in
doubt and is not retried.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from subjectline.deliver.esp import handed_off
from subjectline.deliver.records import RenderedEmail
from subjectline.deliver.render import SMTP_POLICY, to_message
from subjectline.errors import SubjectlineError
from subjectline.track import store
from subjectline.track.ratelimit import Pacer
from subjectline.track.schema import deliveries

CHANNEL = "smtp"
# Exit status when only temporary failures are left: sysexits.h EX_TEMPFAIL, which MTAs
# and cron wrappers already read as "try again later".
EX_TEMPFAIL = 75
# A failed delivery whose stored error starts with a 5xx code was rejected by the server
# (see ``_classify``); any other failure (connection, 4xx, released by an operator) may
# be tried again.
_REJECTION = re.compile(r"5\d\d\b")


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 25
    starttls: bool = False
    use_ssl: bool = False
    username: str | None = None
    password: str | None = None
    timeout_s: float = 30.0
    rate_per_second: float = 10.0
    max_attempts: int = 4
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0


@dataclass
class DeliveryReport:
    """Outcome of one run; the lists hold send ids.

    ``failed``: rejected (5xx) in this run; ``deferred``: still temporarily refused after
    every attempt, tried again by the next run; ``previously_failed``: rejected by an
    earlier run and skipped; ``in_doubt``: see the module docstring.
    """

    sent: int = 0
    already_sent: int = 0
    failed: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    previously_failed: list[str] = field(default_factory=list)
    in_doubt: list[str] = field(default_factory=list)
    retries: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "already_sent": self.already_sent,
            "failed": len(self.failed),
            "deferred": len(self.deferred),
            "previously_failed": len(self.previously_failed),
            "in_doubt": len(self.in_doubt),
            "retries": self.retries,
        }

    @property
    def exit_code(self) -> int:
        """1: a human must look (rejections, in doubt); 75: rerun later; 0: done.

        Rejections from earlier runs do not count: they were reported (with 1) by the run
        that met them, and no rerun changes them.
        """
        if self.failed or self.in_doubt:
            return 1
        return EX_TEMPFAIL if self.deferred else 0


class SmtpLoginError(SubjectlineError):
    """The server refused our credentials; every further message would fail alike."""


class _Transient(Exception):
    """The server did not take the message; trying again is safe."""


class _Permanent(Exception):
    """The server refused the message for good (5xx)."""


class _InDoubt(Exception):
    """The message may or may not have been taken."""


class _LoginRefused(Exception):
    """Authentication failed: stop the run rather than fail every message."""


def idempotency_key(send_id: str) -> str:
    return f"{CHANNEL}:{send_id}"


class SmtpDelivery:
    """Delivers rendered emails over one reused SMTP connection."""

    def __init__(
        self,
        engine: Engine,
        settings: SmtpSettings | None = None,
        from_address: str = "news@shop.example.invalid",
        sleep: Callable[[float], None] = time.sleep,
        retry_rejected: bool = False,
    ):
        self.engine = engine
        self.settings = settings or SmtpSettings()
        self.from_address = from_address
        self.retry_rejected = retry_rejected
        self._sleep = sleep
        self._pacer = Pacer(self.settings.rate_per_second, sleep=sleep)
        self._conn: smtplib.SMTP | None = None

    def deliver(
        self,
        emails: Iterable[RenderedEmail],
        on_sent: Callable[[RenderedEmail], None] | None = None,
    ) -> DeliveryReport:
        """Send each email at most once; ``on_sent`` runs after each confirmed send."""
        report = DeliveryReport()
        emails = list(emails)
        store.register_sends(self.engine, (e.to_send_record() for e in emails))
        rejected = set() if self.retry_rejected else self._rejected_before(emails)
        # Handed off by any channel (an ESP export too): sending it here would duplicate it.
        handed = handed_off(self.engine, [e.send.send_id for e in emails])
        try:
            for rendered in emails:
                if rendered.send.send_id in handed:
                    report.already_sent += 1
                elif rendered.send.send_id in rejected:
                    report.previously_failed.append(rendered.send.send_id)
                elif self._deliver_one(rendered, report) and on_sent is not None:
                    on_sent(rendered)
        finally:
            self.close()
        return report

    def _rejected_before(self, emails: list[RenderedEmail], chunk: int = 5_000) -> set[str]:
        """Send ids whose delivery a server rejected (5xx) in an earlier run."""
        keys = [idempotency_key(e.send.send_id) for e in emails]
        found: set[str] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(keys), chunk):
                rows = conn.execute(
                    sa.select(deliveries.c.send_id, deliveries.c.error).where(
                        deliveries.c.idempotency_key.in_(keys[start : start + chunk]),
                        deliveries.c.status == "failed",
                    )
                )
                found.update(send_id for send_id, error in rows if _REJECTION.match(error or ""))
        return found

    def _deliver_one(self, rendered: RenderedEmail, report: DeliveryReport) -> bool:
        """True when this call sent the email."""
        send_id = rendered.send.send_id
        key = idempotency_key(send_id)
        claim = store.claim_delivery(self.engine, key, send_id, CHANNEL)
        if claim == "already_sent":
            report.already_sent += 1
            return False
        if claim == "in_doubt":
            report.in_doubt.append(send_id)
            return False
        payload = to_message(rendered, self.from_address).as_bytes(policy=SMTP_POLICY)
        delay = self.settings.backoff_initial_s
        for attempt in range(1, self.settings.max_attempts + 1):
            self._pacer.wait()
            try:
                self._transaction(rendered.send.email, payload)
            except _Transient as exc:
                self.close()
                if attempt == self.settings.max_attempts:
                    store.finish_delivery(self.engine, key, "failed", attempt, error=str(exc))
                    report.deferred.append(send_id)
                    return False
                report.retries += 1
                self._sleep(delay)
                delay = min(delay * 2, self.settings.backoff_max_s)
                continue
            except _Permanent as exc:
                store.finish_delivery(self.engine, key, "failed", attempt, error=str(exc))
                report.failed.append(send_id)
                return False
            except _InDoubt:
                self.close()
                report.in_doubt.append(send_id)  # the claim stays 'sending'
                return False
            except _LoginRefused as exc:
                # Not the message's fault: leave it to be tried by the next run.
                store.finish_delivery(self.engine, key, "failed", attempt, error=str(exc))
                s = self.settings
                raise SmtpLoginError(
                    f"SMTP login as {s.username!r} on {s.host}:{s.port} refused ({exc}); "
                    f"stopped after {report.sent} sent, rerun once the credentials are fixed"
                ) from exc
            store.finish_delivery(self.engine, key, "sent", attempt, rendered.message_id)
            report.sent += 1
            return True
        return False

    def _connect(self) -> smtplib.SMTP:
        if self._conn is not None:
            return self._conn
        s = self.settings
        try:
            if s.use_ssl:
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout_s, context=ssl.create_default_context()
                )
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
            conn.ehlo()
            if s.starttls:
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if s.username:
                conn.login(s.username, s.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise _LoginRefused(f"authentication failed: {exc}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise _Transient(f"connect: {exc}") from exc
        self._conn = conn
        return conn

    def _transaction(self, recipient: str, payload: bytes) -> None:
        """MAIL, RCPT, DATA, classifying every failure by whether the server took it."""
        conn = self._connect()
        try:
            code, reply = conn.mail(self.from_address)
            if code != 250:
                raise _classify(code, reply, conn)
            code, reply = conn.rcpt(recipient)
            if code not in (250, 251):
                raise _classify(code, reply, conn)
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            raise _Transient(f"before DATA: {exc}") from exc
        try:
            # data() raises only when DATA itself is refused; the reply after the body
            # (where content filters and greylisting answer) is returned, not raised.
            code, reply = conn.data(payload)
        except smtplib.SMTPDataError as exc:
            raise _classify(exc.smtp_code, exc.smtp_error, conn) from exc
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            raise _InDoubt(f"during DATA: {exc}") from exc
        if not 200 <= code < 300:
            raise _classify(code, reply, conn)

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (OSError, smtplib.SMTPException):
                self._conn.close()
            self._conn = None


def _classify(code: int, reply: bytes | str, conn: smtplib.SMTP) -> Exception:
    """The stored error starts with the reply code, which ``_REJECTION`` reads back."""
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    with contextlib.suppress(OSError, smtplib.SMTPException):
        conn.rset()
    if 400 <= code < 500 or code < 200:
        return _Transient(f"{code} {text}")
    return _Permanent(f"{code} {text}")
