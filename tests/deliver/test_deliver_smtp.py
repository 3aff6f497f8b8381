"""SMTP delivery against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import time
from collections import Counter

import pytest
import sqlalchemy as sa

from subjectline.deliver import SmtpDelivery, SmtpSettings
from subjectline.deliver.sink import LocalSMTPServer, free_port
from subjectline.deliver.smtp import SmtpLoginError, idempotency_key
from subjectline.track.schema import deliveries, sends
from subjectline.track.store import claim_delivery, delivery_status, release_in_doubt

FAST = {"rate_per_second": 1000.0, "backoff_initial_s": 0.01, "timeout_s": 5.0}


def settings(port: int, **overrides) -> SmtpSettings:
    return SmtpSettings(port=port, **{**FAST, **overrides})


def message_ids(server: LocalSMTPServer) -> Counter[str]:
    return Counter(r.message()["Message-ID"] for r in server.received)


def test_delivers_and_reads_back(emails, store_engine) -> None:
    with LocalSMTPServer() as server:
        report = SmtpDelivery(store_engine, settings(server.port)).deliver(emails)
        received = server.received
    assert report.as_dict() == {
        "sent": 30, "already_sent": 0, "failed": 0, "deferred": 0, "previously_failed": 0,
        "in_doubt": 0, "retries": 0,
    }  # fmt: skip
    assert report.exit_code == 0
    assert len(received) == 30
    by_rcpt = {r.rcpt_tos[0]: r.message() for r in received}
    for email in emails:
        message = by_rcpt[email.send.email]
        assert message["Subject"] == email.subject
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        html = message.get_body(("html",))
        assert html is not None and email.tracked_links[0] in html.get_content()
    with store_engine.connect() as conn:
        assert conn.execute(
            sa.select(sa.func.count()).where(sends.c.sent_at.is_not(None))
        ).scalar_one() == 30  # fmt: skip
    assert delivery_status(store_engine, "c-deliver") == {"sent": 30}


def test_rerun_after_crash_sends_nothing_twice(emails, store_engine) -> None:
    class Crash(Exception):
        pass

    sent_before_crash = []

    def crash_after_ten(rendered) -> None:
        sent_before_crash.append(rendered.send.send_id)
        if len(sent_before_crash) == 10:
            raise Crash

    with LocalSMTPServer() as server:
        with pytest.raises(Crash):
            SmtpDelivery(store_engine, settings(server.port)).deliver(
                emails, on_sent=crash_after_ten
            )
        # A crash between claiming and confirming leaves the key in doubt.
        in_doubt = emails[15].send.send_id
        assert (
            claim_delivery(store_engine, idempotency_key(in_doubt), in_doubt, "smtp") == "claimed"
        )
        report = SmtpDelivery(store_engine, settings(server.port)).deliver(emails)
        assert (report.sent, report.already_sent, report.in_doubt) == (19, 10, [in_doubt])
        again = SmtpDelivery(store_engine, settings(server.port)).deliver(emails)
        assert (again.sent, again.already_sent) == (0, 29)
        # After the operator checked the server log, releasing sends it once more.
        assert release_in_doubt(store_engine, [idempotency_key(in_doubt)]) == 1
        assert SmtpDelivery(store_engine, settings(server.port)).deliver(emails).sent == 1
        counts = message_ids(server)
    assert len(counts) == 30 and set(counts.values()) == {1}


def test_transient_failures_are_retried_with_backoff(emails, store_engine) -> None:
    refused: Counter[str] = Counter()

    def greylist(address: str) -> str | None:  # refuse each recipient twice, then accept
        refused[address] += 1
        return "451 4.7.1 greylisted, try later" if refused[address] <= 2 else None

    sleeps: list[float] = []
    with LocalSMTPServer(rcpt_policy=greylist) as server:
        delivery = SmtpDelivery(store_engine, settings(server.port), sleep=sleeps.append)
        report = delivery.deliver(emails[:3])
        counts = message_ids(server)
    assert report.sent == 3 and report.retries == 6
    assert set(counts.values()) == {1}
    backoffs = [s for s in sleeps if s >= 0.01]
    assert backoffs == [0.01, 0.02] * 3  # exponential per email
    with store_engine.connect() as conn:
        attempts = conn.execute(sa.select(deliveries.c.attempts)).scalars().all()
    assert attempts == [3, 3, 3]


def test_permanent_failure_is_not_retried(emails, store_engine) -> None:
    bad = emails[1].send.email
    policy = lambda address: "550 5.1.1 no such user" if address == bad else None  # noqa: E731
    with LocalSMTPServer(rcpt_policy=policy) as server:
        report = SmtpDelivery(store_engine, settings(server.port)).deliver(emails[:3])
        assert len(server.received) == 2
    assert (report.sent, report.failed, report.retries) == (2, [emails[1].send.send_id], 0)
    assert report.exit_code == 1
    with store_engine.connect() as conn:
        error = conn.execute(
            sa.select(deliveries.c.error).where(deliveries.c.status == "failed")
        ).scalar_one()
    assert error.startswith("550")


def test_unreachable_server_fails_after_attempts(emails, store_engine) -> None:
    port = free_port()  # nothing listens there
    report = SmtpDelivery(
        store_engine, settings(port, max_attempts=2), sleep=lambda _: None
    ).deliver(emails[:2])
    assert (report.sent, len(report.deferred), report.retries) == (0, 2, 2)
    assert report.failed == [] and report.exit_code == 75  # EX_TEMPFAIL: rerun later
    # Not taken by a server that never answered: a later run tries again.
    with LocalSMTPServer(port=port) as server:
        report = SmtpDelivery(store_engine, settings(port)).deliver(emails[:2])
        assert report.sent == 2 and len(server.received) == 2


def test_rate_limit_paces_sends(emails, store_engine) -> None:
    with LocalSMTPServer() as server:
        start = time.monotonic()
        SmtpDelivery(store_engine, settings(server.port, rate_per_second=50)).deliver(emails[:11])
        elapsed = time.monotonic() - start
    assert elapsed >= 10 / 50


def test_reply_550_at_end_of_data_is_a_permanent_failure(emails, store_engine) -> None:
    # A content filter answers only once it has read the body: smtplib returns that reply
    # from data() instead of raising, so it must be checked.
    bad = emails[1].send.email
    rejected = emails[1].send.send_id
    with LocalSMTPServer(
        data_policy=lambda rcpts: "550 5.7.1 message content rejected" if bad in rcpts else None
    ) as server:
        report = SmtpDelivery(store_engine, settings(server.port)).deliver(emails[:3])
        assert (report.sent, report.failed, report.deferred, report.retries) == (
            2, [rejected], [], 0
        )  # fmt: skip
        assert delivery_status(store_engine) == {"sent": 2, "failed": 1}
        assert report.exit_code == 1  # a person should look at the rejection
        with store_engine.connect() as conn:
            row = conn.execute(
                sa.select(deliveries.c.status, deliveries.c.error).where(
                    deliveries.c.send_id == rejected
                )
            ).one()
            sent_at = conn.execute(
                sa.select(sends.c.sent_at).where(sends.c.send_id == rejected)
            ).scalar_one()
        assert row.status == "failed" and row.error.startswith("550 5.7.1")
        assert sent_at is None  # the analysis does not count it as delivered
        # A rerun neither calls it sent nor hammers the server with it again.
        again = SmtpDelivery(store_engine, settings(server.port)).deliver(emails[:3])
        assert (again.sent, again.already_sent, again.previously_failed) == (0, 2, [rejected])
        assert again.failed == [] and again.deferred == [] and again.exit_code == 0
        # Unless the operator asks for it (say, after fixing what the filter objected to).
        server.data_policy = None
        retried = SmtpDelivery(store_engine, settings(server.port), retry_rejected=True).deliver(
            emails[:3]
        )
        assert (retried.sent, retried.already_sent) == (1, 2)
        assert len(server.received) == 3


def test_reply_451_at_end_of_data_is_retried_on_the_next_run(emails, store_engine) -> None:
    greylisted = emails[0].send.email
    with LocalSMTPServer(
        data_policy=lambda rcpts: (
            "451 4.7.1 greylisted, come back later" if greylisted in rcpts else None
        )
    ) as server:
        first = SmtpDelivery(
            store_engine, settings(server.port, max_attempts=2), sleep=lambda _: None
        ).deliver(emails[:3])
        assert (first.sent, first.failed, first.deferred, first.retries) == (
            2, [], [emails[0].send.send_id], 1
        )  # fmt: skip
        with store_engine.connect() as conn:
            error = conn.execute(
                sa.select(deliveries.c.error).where(deliveries.c.status == "failed")
            ).scalar_one()
        assert error.startswith("451 4.7.1") and first.exit_code == 75
        server.data_policy = None  # the greylisting period is over
        second = SmtpDelivery(store_engine, settings(server.port)).deliver(emails[:3])
        assert (second.sent, second.already_sent, second.deferred) == (1, 2, [])
        assert second.exit_code == 0
        assert sorted(r.rcpt_tos[0] for r in server.received) == sorted(
            e.send.email for e in emails[:3]
        )
    assert delivery_status(store_engine) == {"sent": 3}


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_refused_login_stops_the_run_and_fails_nothing_for_good(emails, store_engine) -> None:
    with LocalSMTPServer(password="right") as server:
        wrong = settings(server.port, username="news", password="wrong")
        with pytest.raises(SmtpLoginError, match="refused"):
            SmtpDelivery(store_engine, wrong).deliver(emails[:3])
        # One claim was taken and is released as a retryable failure; the rest untouched.
        assert delivery_status(store_engine) == {"failed": 1}
        right = settings(server.port, username="news", password="right")
        report = SmtpDelivery(store_engine, right).deliver(emails[:3])
        assert (report.sent, report.previously_failed) == (3, [])
        assert len(server.received) == 3
