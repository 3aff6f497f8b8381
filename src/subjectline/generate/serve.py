"""``subjectline serve-llm``: the embedded model behind an OpenAI-compatible endpoint.

This is llama.cpp's own HTTP server (run in-process by xllamacpp): ``/v1/chat/completions``,
``/v1/completions``, ``/v1/models``, ``/health``, with continuous batching over the
parallel slots and llama.cpp's extra request fields (``grammar``, ``min_p``, ...).
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

from subjectline.generate.local import LocalModelConfig, default_threads, load_server, model_name

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8088
ENV_SERVER_KEY = "SUBJECTLINE_LLM_API_KEY"


def start_server(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    model_path: str | Path | None = None,
    n_parallel: int = 4,
    n_threads: int | None = None,
    api_key: str | None = None,
) -> tuple[Any, str]:
    """Load the model and start listening; returns the server and its base URL
    (``port=0`` picks a free port). Without ``api_key`` anyone who can reach the
    address may use it, so keep it on 127.0.0.1 then."""
    if model_path is None:
        from subjectline.assets import smollm2_gguf

        model_path = smollm2_gguf()
    config = LocalModelConfig(str(model_path), n_parallel, n_threads or default_threads())
    server = load_server(
        config, host=host, port=port, api_key=api_key or "", alias=model_name(model_path)
    )
    return server, str(server.listening_address)


def serve_forever(stop: threading.Event | None = None) -> None:
    """Block until SIGINT/SIGTERM (or ``stop`` is set)."""
    stop = stop or threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
