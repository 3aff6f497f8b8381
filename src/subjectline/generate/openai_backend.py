"""Any OpenAI-compatible chat server (vLLM, Ollama, llama.cpp server, hosted APIs)
through the ``openai`` client, with timeouts, retries with exponential backoff and a
concurrency limit. ``subjectline serve-llm`` serves the embedded model this way.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai

from subjectline.generate.backends import BackendError
from subjectline.generate.grammar import grammar
from subjectline.generate.records import Completion, Prompt

ENV_BASE_URL = "SUBJECTLINE_OPENAI_BASE_URL"
ENV_MODEL = "SUBJECTLINE_OPENAI_MODEL"
ENV_API_KEY = "OPENAI_API_KEY"
# Worth another try: the server is busy, overloaded, restarting or slow.
RETRYABLE = (
    openai.APITimeoutError,
    openai.APIConnectionError,
    openai.RateLimitError,
    openai.InternalServerError,
)
RETRYABLE_STATUS = frozenset({408, 409, 425, 429})


class OpenAIBackend:
    """Chat completions from an OpenAI-compatible server.

    ``base_url``/``model``/``api_key`` come from the arguments, else from
    ``SUBJECTLINE_OPENAI_BASE_URL``/``SUBJECTLINE_OPENAI_MODEL``/``OPENAI_API_KEY``; with
    no model anywhere, the server's first ``/v1/models`` entry is used. A failed request
    is retried ``retries`` times after ``backoff * 2**k`` seconds (plus up to 25% jitter,
    at most ``max_backoff``, or the server's Retry-After when it sends one); at most
    ``concurrency`` requests are in flight. ``grammar=True`` sends the output spec as a
    llama.cpp ``grammar`` field (only llama.cpp-based servers understand it); otherwise
    the server gets stop rules and a token limit, and post-processing does the rest.
    """

    name = "openai"
    calls_llm = True

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        concurrency: int = 4,
        grammar: bool = False,
        extra_body: dict[str, Any] | None = None,
        client: openai.OpenAI | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if retries < 0 or concurrency < 1 or timeout <= 0:
            raise ValueError("need retries >= 0, concurrency >= 1 and timeout > 0")
        base_url = base_url or os.environ.get(ENV_BASE_URL)
        if client is None:
            if not base_url:
                raise BackendError(
                    f"the openai backend needs a base URL (--base-url or ${ENV_BASE_URL})"
                )
            # Local servers take any key; the client insists on one.
            key = api_key or os.environ.get(ENV_API_KEY) or "no-key"
            client = openai.OpenAI(base_url=base_url, api_key=key, timeout=timeout, max_retries=0)
        self.client = client
        self._model = model or os.environ.get(ENV_MODEL)
        self._model_lock = threading.Lock()
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.concurrency = concurrency
        self.grammar = grammar
        self.extra_body = dict(extra_body or {})
        self._sleep = sleep
        self._jitter = random.Random()

    @property
    def base_url(self) -> str:
        return str(self.client.base_url)

    @property
    def model_id(self) -> str:
        with self._model_lock:
            if self._model is None:
                models = self._with_retries(lambda: self.client.models.list().data)
                if not models:
                    raise BackendError(f"{self.base_url} lists no models; pass --model")
                self._model = models[0].id
            return self._model

    def _delay(self, attempt: int, exc: Exception) -> float:
        response = getattr(exc, "response", None)
        retry_after = response.headers.get("retry-after") if response is not None else None
        if retry_after:
            try:
                return min(self.max_backoff, max(0.0, float(retry_after)))
            except ValueError:
                pass
        base = min(self.max_backoff, self.backoff * 2**attempt)
        return base * (1 + 0.25 * self._jitter.random())

    def _with_retries(self, call: Callable[[], Any]) -> Any:
        for attempt in range(self.retries + 1):
            try:
                return call()
            except openai.APIStatusError as exc:
                retryable = isinstance(exc, RETRYABLE) or exc.status_code in RETRYABLE_STATUS
                if not retryable:
                    raise BackendError(
                        f"{self.base_url} refused the request ({exc.status_code}): {exc.message}"
                    ) from exc
                last: Exception = exc
            except RETRYABLE as exc:
                last = exc
            if attempt < self.retries:
                self._sleep(self._delay(attempt, last))
        raise BackendError(
            f"{self.base_url} failed {self.retries + 1} times; last error: {last}"
        ) from last

    def _one(self, prompt: Prompt) -> Completion:
        extra = dict(self.extra_body)
        if self.grammar:
            extra["grammar"] = grammar(prompt.spec)
            extra.setdefault("min_p", prompt.min_p)
            extra.setdefault("repeat_penalty", prompt.repeat_penalty)
        model = self.model_id
        response = self._with_retries(
            lambda: self.client.chat.completions.create(
                model=model,
                messages=prompt.chat(),  # type: ignore[arg-type]
                max_tokens=prompt.max_tokens,
                temperature=prompt.temperature,
                top_p=prompt.top_p,
                seed=prompt.seed,
                stop=list(prompt.spec.stop),
                n=1,
                extra_body=extra or None,
            )
        )
        if not response.choices:
            return Completion(text="")
        choice = response.choices[0]
        usage = response.usage
        return Completion(
            text=choice.message.content or "",
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            finish_reason=str(choice.finish_reason or ""),
        )

    def complete(self, prompts: Sequence[Prompt]) -> list[Completion]:
        if not prompts:
            return []
        _ = self.model_id  # resolve once, before the threads start
        with ThreadPoolExecutor(min(self.concurrency, len(prompts))) as pool:
            return list(pool.map(self._one, prompts))
