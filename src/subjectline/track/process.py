"""Run ``subjectline serve`` as a child process (for the load benchmark and tests)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


@contextmanager
def running_service(
    db_url: str,
    workspace: Path,
    port: int,
    env: dict[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
    start_timeout_s: float = 30.0,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start the service on 127.0.0.1:``port``, wait for /healthz, yield its base URL and

    the process (a test may kill it).
    """
    command = [
        sys.executable, "-m", "subjectline", "serve", "--db", db_url,
        "--workspace", str(workspace), "--port", str(port), *extra_args,
    ]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + start_timeout_s
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"serve exited: {log.read().decode(errors='replace')}")
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"serve did not answer on {base} in {start_timeout_s}s")
                time.sleep(0.1)
            yield base, process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
