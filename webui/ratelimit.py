"""Failed sign-in counting: too many failures for one key locks that key for a while."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Hashable

MAX_KEYS = 10_000  # bounds memory when someone sprays usernames


class RateLimiter:
    """``limit`` failures within ``window`` seconds lock a key until the oldest of them expires."""

    def __init__(
        self,
        *,
        limit: int = 5,
        window: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: Hashable, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def retry_after(self, *keys: Hashable) -> float:
        """Seconds until every key may try again (0 if none is locked)."""
        with self._lock:
            now = self._clock()
            wait = 0.0
            for key in keys:
                times = self._recent(key, now)
                if times is not None and len(times) >= self.limit:
                    wait = max(wait, times[-self.limit] + self.window - now)
            return wait

    def fail(self, *keys: Hashable) -> None:
        """Count one failure against each key."""
        with self._lock:
            now = self._clock()
            if len(self._failures) >= MAX_KEYS:
                for key in list(self._failures):
                    self._recent(key, now)
                while len(self._failures) >= MAX_KEYS:  # still full: forget the oldest key
                    del self._failures[next(iter(self._failures))]
            for key in keys:
                times = self._recent(key, now) or self._failures.setdefault(key, deque())
                times.append(now)
                while len(times) > self.limit:
                    times.popleft()

    def reset(self, *keys: Hashable) -> None:
        """Forget the failures of each key (after a successful sign-in)."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
