"""A local SMTP server that keeps what it receives (aiosmtpd): for trying delivery out
and for tests. Not for production; aiosmtpd is a development dependency.
"""

from __future__ import annotations

import mailbox
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


# Decides the reply to one recipient: None accepts, a string such as "451 4.3.0 later"
# is sent back instead (to test retries and permanent failures).
RcptPolicy = Callable[[str], str | None]
# The same for the reply at the end of DATA, given the accepted recipients: a real server
# answers there once it has read the body (content filters, greylisting, quota).
DataPolicy = Callable[[tuple[str, ...]], str | None]


class _Handler:
    def __init__(self, rcpt_policy: RcptPolicy | None, data_policy: DataPolicy | None):
        self.rcpt_policy = rcpt_policy
        self.data_policy = data_policy
        self.received: list[Received] = []
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        reply = self.rcpt_policy(address) if self.rcpt_policy else None
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = self.data_policy(tuple(envelope.rcpt_tos)) if self.data_policy else None
        if reply:
            return reply
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content))
            )
        return "250 Message accepted for delivery"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class LocalSMTPServer:
    """``with LocalSMTPServer() as server: ... server.port ... server.received``.

    ``rcpt_policy`` and ``data_policy`` may be replaced while it runs (``server.data_policy
    = None``), to test what a rerun does once the server accepts again. With ``password``,
    every client must log in (any user name) first.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        rcpt_policy: RcptPolicy | None = None,
        data_policy: DataPolicy | None = None,
        password: str | None = None,
    ):
        self.host = host
        self.port = port or free_port(host)
        self._handler = _Handler(rcpt_policy, data_policy)
        self._password = password
        self._controller: Any = None

    @property
    def data_policy(self) -> DataPolicy | None:
        return self._handler.data_policy

    @data_policy.setter
    def data_policy(self, policy: DataPolicy | None) -> None:
        self._handler.data_policy = policy

    @property
    def received(self) -> list[Received]:
        with self._handler.lock:
            return list(self._handler.received)

    def start(self) -> LocalSMTPServer:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        auth: dict[str, Any] = {}
        if self._password is not None:
            expected = self._password.encode()

            def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any):
                ok = isinstance(data, LoginPassword) and data.password == expected
                return AuthResult(success=ok, handled=False)  # False: aiosmtpd sends the 535

            # Plain-text AUTH without TLS: a test server on 127.0.0.1 only.
            auth = {"authenticator": authenticate, "auth_required": True, "auth_require_tls": False}
        self._controller = Controller(
            self._handler,
            hostname=self.host,
            port=self.port,
            data_size_limit=10 * 2**20,
            **auth,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> LocalSMTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class MaildirSMTPServer:
    """aiosmtpd in its own process, storing every message in a Maildir.

    Out of process, so that a large delivery is not slowed by sharing the GIL with the
    server; ``messages()`` reads back what arrived.
    """

    def __init__(self, maildir: Path, host: str = "127.0.0.1", port: int = 0):
        self.maildir = Path(maildir)
        self.host = host
        self.port = port or free_port(host)
        self._process: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    def start(self, timeout_s: float = 15.0) -> MaildirSMTPServer:
        mailbox.Maildir(self.maildir, create=True)  # creates tmp/, new/ and cur/
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop)
        self._process = subprocess.Popen(
            [
                sys.executable, "-m", "aiosmtpd", "-n",
                "-l", f"{self.host}:{self.port}",
                "-c", "aiosmtpd.handlers.Mailbox", str(self.maildir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=self._log,  # a file: a pipe nobody reads would fill up and stall it
        )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._log.seek(0)
                stderr = self._log.read().decode(errors="replace")
                raise RuntimeError(f"aiosmtpd exited: {stderr}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"aiosmtpd did not listen on {self.host}:{self.port}")

    def messages(self) -> list[EmailMessage]:
        box = mailbox.Maildir(self.maildir, create=False)
        parsed = []
        for key in box.iterkeys():
            message = message_from_bytes(box.get_bytes(key), policy=policy.default)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
            self._log.close()

    def __enter__(self) -> MaildirSMTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
