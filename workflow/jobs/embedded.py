"""The worker that ``estrategia serve`` runs inside the web application: on SQLite (one
process, no extra service) or when ``ESTRATEGIA_JOBS_EMBEDDED_WORKER=true``.

It is an asyncio task on the server's event loop (the app's lifespan starts and stops it);
sync handlers run in threads, so requests are not blocked. On shutdown the worker stops
fetching, waits up to ``grace_s`` for running jobs, then aborts them (they are retried).
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workflow.config import Settings
    from workflow.runtime import Runtime

log = logging.getLogger(__name__)


def wanted(settings: Settings) -> bool:
    """The setting if given; otherwise yes on SQLite, no on PostgreSQL."""
    if settings.jobs.embedded_worker is not None:
        return settings.jobs.embedded_worker
    return not settings.effective_database_url.startswith("postgresql")


class EmbeddedWorker:
    def __init__(self, rt: Runtime, *, grace_s: float = 10.0) -> None:
        self.rt = rt
        self.grace_s = grace_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        from workflow.jobs.queue import queue_of

        queue = queue_of(self.rt)
        self._task = asyncio.get_running_loop().create_task(
            queue.run_worker_async(name=f"embedded:{os.getpid()}", shutdown_grace_s=self.grace_s),
            name="estrategia embedded worker",
        )
        self._task.add_done_callback(self._ended)

    @staticmethod
    def _ended(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("the embedded job worker stopped", exc_info=task.exception())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None or task.done():
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        except Exception:  # its shutdown could not reach the database: the server stops anyway
            log.error("the embedded job worker stopped with an error", exc_info=True)
