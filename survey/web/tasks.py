"""Work that takes longer than a page: run in a worker thread, followed on a page that polls.

A task keeps who started it, what it is, when it started, and at the end either what it
produced (the files a job wrote, shown as download links by their position, never by a path
from the browser) or the error, in the user's language. Staff may leave the page and come back.
"""
from __future__ import annotations

import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

__all__ = ["Task", "Tasks"]


@dataclass
class Task:
    id: str
    user: str
    kind: str
    label: str
    started: float = field(default_factory=time.monotonic)
    status: str = "running"          # running | done | failed
    error: str = ""
    lines: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    ended: float | None = None
    link: str = ""                   # where the work's result is shown, once done

    @property
    def seconds(self) -> int:
        return int((self.ended or time.monotonic()) - self.started)


class Tasks:
    """At most ``workers`` tasks run at once (the machine's cores are shared); the rest wait their turn."""

    def __init__(self, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pgi-web-task")
        self._tasks: dict[str, Task] = {}
        self._lock = threading.Lock()

    def start(self, user: str, kind: str, label: str, work: Callable[[Task], tuple[list[str], list[Path]]],
              describe_error: Callable[[BaseException], str], link: str = "") -> Task:
        """Run ``work(task)`` (returning lines to show and files written; it may set ``task.link``) in a
        worker thread."""
        task = Task(secrets.token_urlsafe(12), user, kind, label, link=link)
        with self._lock:
            self._tasks[task.id] = task

        def run() -> None:
            try:
                task.lines, task.files = work(task)
                task.status = "done"
            except Exception as exc:  # shown to the user; the worker stays alive for the next task
                task.error, task.status = describe_error(exc), "failed"
            finally:
                task.ended = time.monotonic()
        self._pool.submit(run)
        return task

    def get(self, task_id: str) -> Task | None:
        with self._lock:
            return self._tasks.get(task_id)

    def of_user(self, user: str) -> list[Task]:
        with self._lock:
            return sorted((t for t in self._tasks.values() if t.user == user), key=lambda t: -t.started)

    def wait(self, task_id: str, timeout: float = 60.0) -> Task | None:
        """For tests and scripts: the task once it has ended (or ``timeout`` seconds passed)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            task = self.get(task_id)
            if task is None or task.status != "running":
                return task
            time.sleep(0.05)
        return self.get(task_id)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

