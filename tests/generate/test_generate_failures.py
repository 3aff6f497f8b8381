"""Failure paths: a misbehaving server (retries, backoff, timeouts) and a backend that
writes garbage (bounded regeneration). Fakes are used only here."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from subjectline.generate import BackendError, Prompt, PromptSettings, generate_titles
from subjectline.generate.openai_backend import OpenAIBackend
from subjectline.workspace import Workspace

from .conftest import RUNNING


@dataclass
class Script:
    """What the fake server does: fail ``failures`` times with ``status`` (or hang for
    ``hang`` seconds), then answer."""

    failures: int = 0
    status: int = 503
    hang: float = 0.0
    retry_after: str | None = None
    requests: list[float] = field(default_factory=list)


@pytest.fixture
def fake_server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, payload: dict[str, object]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if status != 200 and script.retry_after:
                self.send_header("Retry-After", script.retry_after)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            script.requests.append(time.monotonic())
            if len(script.requests) <= script.failures:
                if script.hang:
                    time.sleep(script.hang)
                    return
                self._send(script.status, {"error": {"message": "nope", "type": "x"}})
                return
            message = {"role": "assistant", "content": "Running shoes picked for you"}
            self._send(
                200,
                {
                    "id": "x",
                    "object": "chat.completion",
                    "created": 0,
                    "model": "fake",
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
                },
            )

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", script
    finally:
        server.shutdown()
        server.server_close()


def _prompt() -> Prompt:
    from subjectline.generate import build_prompt

    return build_prompt(RUNNING, PromptSettings(), 0)


def test_retries_with_exponential_backoff_then_succeeds(
    fake_server: tuple[str, Script],
) -> None:
    url, script = fake_server
    script.failures = 3
    sleeps: list[float] = []
    backend = OpenAIBackend(url, "fake", retries=3, backoff=0.1, sleep=sleeps.append)
    (answer,) = backend.complete([_prompt()])
    assert answer.text == "Running shoes picked for you"
    assert len(script.requests) == 4
    assert len(sleeps) == 3
    for k, delay in enumerate(sleeps):
        assert 0.1 * 2**k <= delay <= 0.1 * 2**k * 1.25


def test_gives_up_after_bounded_retries_with_a_clear_error(
    fake_server: tuple[str, Script],
) -> None:
    url, script = fake_server
    script.failures = 100
    script.retry_after = "0.05"
    sleeps: list[float] = []
    backend = OpenAIBackend(url, "fake", retries=2, sleep=sleeps.append)
    with pytest.raises(BackendError, match="failed 3 times"):
        backend.complete([_prompt()])
    assert len(script.requests) == 3
    assert sleeps == [0.05, 0.05]  # the server's Retry-After wins


def test_client_errors_are_not_retried(fake_server: tuple[str, Script]) -> None:
    url, script = fake_server
    script.failures, script.status = 100, 400
    backend = OpenAIBackend(url, "fake", retries=3, sleep=lambda _: None)
    with pytest.raises(BackendError, match="400"):
        backend.complete([_prompt()])
    assert len(script.requests) == 1


def test_timeouts_are_retried(fake_server: tuple[str, Script]) -> None:
    url, script = fake_server
    script.failures, script.hang = 1, 1.0
    backend = OpenAIBackend(url, "fake", timeout=0.3, retries=1, sleep=lambda _: None)
    (answer,) = backend.complete([_prompt()])
    assert answer.text and len(script.requests) == 2


def test_missing_base_url_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUBJECTLINE_OPENAI_BASE_URL", raising=False)
    with pytest.raises(BackendError, match="base URL"):
        OpenAIBackend()


class GarbageFirst:
    """Writes garbage for the first ``bad_rounds`` attempts of every candidate."""

    name = "garbage"
    calls_llm = True
    model_id = "garbage-1"

    def __init__(self, bad_rounds: int):
        self.bad_rounds = bad_rounds
        self.calls = 0

    def complete(self, prompts: Sequence[Prompt]) -> list[str]:
        self.calls += len(prompts)
        return [
            "\n\n" if p.attempt < self.bad_rounds else f"Running shoes, pick number {p.index}"
            for p in prompts
        ]


def test_garbage_is_regenerated_a_bounded_number_of_times(tmp_path: Path) -> None:
    settings = PromptSettings(n_candidates=3, max_retries=2)
    titles, stats = generate_titles([RUNNING], GarbageFirst(1), settings)
    assert [c.attempts for c in titles[RUNNING.key]] == [2, 2, 2]
    assert stats.llm_calls == 6 and stats.retries == 3 and stats.rejections == {"empty": 3}

    hopeless = GarbageFirst(99)
    workspace = Workspace(tmp_path / "ws")
    titles, stats = generate_titles([RUNNING], hopeless, settings, workspace)
    assert titles[RUNNING.key] == [] and stats.failed == 3
    assert hopeless.calls == 3 * (1 + settings.max_retries)
    # Given-up candidates are cached too: a rerun does not try again.
    _, again = generate_titles([RUNNING], hopeless, settings, workspace)
    assert again.llm_calls == 0 and hopeless.calls == 9
