"""How a chunked engine spends the cores it is given: windows side by side, one torch thread each
(no per-operator thread barriers, which cost most on a busy machine), or a lone window on all of
them (a job's first window, so its first seconds are playable soonest). A job told to share the
host's cores (`use`, before each batch: jobs/core_share.py) gets as many windows as its share.

    threads = WindowThreads(torch, window_threads_for(threads_setting), "demucs-window")
    threads.use(cores_now)
    outs = threads.side_by_side(one_window, windows) if len(windows) > 1 else ...
    with threads.lone():
        out = one_window(window)
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ...config import WINDOW_THREADS_ENV, host_cores

THREADS_ENV = "RIFFROOM_TORCH_THREADS"  # = Settings.torch_threads; 0 = torch's default (all cores)
T = TypeVar("T")
R = TypeVar("R")


def window_threads_for(torch_threads: int) -> int:
    """Every core when torch's threads are left to it (0); else what the supervisor allows a worker
    that shares the host (RIFFROOM_WINDOW_THREADS), else one."""
    if torch_threads == 0:
        return host_cores()
    return max(1, int(os.environ.get(WINDOW_THREADS_ENV, "1") or 1))


class WindowThreads:
    """A pool of `size` window threads (none when `size` is 1) and the job's current share of it."""

    def __init__(self, torch: Any, size: int, name: str) -> None:
        self._torch = torch
        self.size = max(1, size)
        self.pool = ThreadPoolExecutor(self.size, thread_name_prefix=name) if self.size > 1 else None
        self.share = self.size

    def use(self, cores: int) -> None:
        """The job may use `cores` until it says otherwise."""
        self.share = max(1, min(int(cores), self.size))

    def side_by_side(self, fn: Callable[[T], R], windows: list[T]) -> list[R]:
        """`fn` over `windows` on the pool, one torch thread in each (OpenMP keeps the thread count
        per calling thread), the caller's threads as they were after."""
        assert self.pool is not None
        torch = self._torch
        before = torch.get_num_threads()
        torch.set_num_threads(1)

        def single_threaded(window: T) -> R:
            torch.set_num_threads(1)
            return fn(window)

        try:
            return list(self.pool.map(single_threaded, windows))
        finally:
            torch.set_num_threads(before)

    @contextlib.contextmanager
    def lone(self) -> Iterator[None]:
        """A lone window on the job's share of the cores (no pool: torch's threads as they are)."""
        torch = self._torch
        before = torch.get_num_threads()
        threads = self.share if self.pool is not None else before
        if threads == before:
            yield
            return
        torch.set_num_threads(threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)
