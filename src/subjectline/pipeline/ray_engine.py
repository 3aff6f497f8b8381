"""Shards as Ray tasks: the same passes and files as the local engine, run in parallel.

The large shared inputs of a pass (the fitted model, the item features) go into Ray's
object store once; each task gets them zero-copy and writes its shard's files itself,
so ``OUT`` must be on storage every Ray node sees (any path on one machine; a shared
file system on a cluster). Resuming works as with the local engine: a rerun skips the
shards whose files exist, whichever engine wrote them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any


class RayRunner:
    """Runs a pass's shards as Ray tasks, one CPU each, on ``address`` or a local Ray."""

    def __init__(self, address: str | None = None) -> None:
        import ray

        if not ray.is_initialized():
            ray.init(
                address=address or os.environ.get("RAY_ADDRESS"),
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )

    def run(
        self,
        task: Callable[..., None],
        calls: list[tuple[int, dict[str, Any]]],
        shared: dict[str, Any],
        on_done: Callable[[int], None],
    ) -> None:
        import ray

        # Ray resolves object references given as top-level arguments before the call.
        refs = {name: ray.put(value) for name, value in shared.items()}
        remote = ray.remote(num_cpus=1, max_retries=2)(task)
        pending = {remote.remote(shard=shard, **refs, **kwargs): shard for shard, kwargs in calls}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                ray.get(ref)  # a task's error is raised here
                on_done(pending.pop(ref))
