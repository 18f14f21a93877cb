"""Failed sign-in counting: too many failures for one key lock that key (and only it) for a while.

Sign-in attempts are keyed so that an attacker locks out only themselves (OWASP's device cookies):
- a browser holding a device cookie for the account (set at a successful sign-in) is counted by
  that cookie alone: guessing from elsewhere, even from the same address, never locks it out;
- any other attempt counts against (client address, account), the client address (many accounts:
  set well above one person's typos, as a school's NAT holds many people), and the account from
  every untrusted client together (a slower limit for guessing spread over many addresses).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

MAX_KEYS = 10_000  # bounds memory when someone sprays usernames


@dataclass(frozen=True, slots=True)
class Rule:
    """``limit`` failures within ``window`` seconds lock a key."""

    limit: int
    window: float


PAIR, CLIENT, ACCOUNT, DEVICE = "pair", "client", "account", "device"
SIGN_IN_RULES: Mapping[str, Rule] = {
    PAIR: Rule(5, 300.0),  # one address guessing one account
    CLIENT: Rule(20, 300.0),  # one address guessing many accounts (a NAT: many people)
    ACCOUNT: Rule(20, 900.0),  # every untrusted address together against one account
    DEVICE: Rule(5, 300.0),  # one trusted browser (its device cookie) against its account
}
SCOPES = {
    PAIR: "this address for this account",
    CLIENT: "this address for every account",
    ACCOUNT: "this account from browsers it has not signed in from",
    DEVICE: "this browser for this account",
}


class RateLimiter:
    """Failures per key: a key ``(scope, ...)`` follows its scope's rule, any other the default."""

    def __init__(
        self,
        *,
        limit: int = 5,
        window: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        rules: Mapping[str, Rule] = SIGN_IN_RULES,
    ) -> None:
        for rule in (Rule(limit, window), *rules.values()):
            if rule.limit < 1 or rule.window <= 0:
                raise ValueError("limit must be >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self._default = Rule(limit, window)
        self._rules = dict(rules)
        self._clock = clock
        self._failures: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()

    def rule(self, key: Hashable) -> Rule:
        """The rule that counts this key."""
        if isinstance(key, tuple) and key and isinstance(key[0], str):
            return self._rules.get(key[0], self._default)
        return self._default

    def _recent(self, key: Hashable, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        window = self.rule(key).window
        while times and times[0] <= now - window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def _wait(self, key: Hashable, now: float) -> float:
        rule = self.rule(key)
        times = self._recent(key, now)
        if times is None or len(times) < rule.limit:
            return 0.0
        return times[-rule.limit] + rule.window - now

    def retry_after(self, *keys: Hashable) -> float:
        """Seconds until every key may try again (0 if none is locked)."""
        with self._lock:
            now = self._clock()
            return max((self._wait(key, now) for key in keys), default=0.0)

    def locked(self, *keys: Hashable) -> list[tuple[Hashable, float]]:
        """The keys that are locked now, with the seconds each has left."""
        with self._lock:
            now = self._clock()
            waits = [(key, self._wait(key, now)) for key in keys]
        return [(key, wait) for key, wait in waits if wait > 0]

    def fail(self, *keys: Hashable) -> list[Hashable]:
        """Count one failure against each key; return the keys this failure locked."""
        newly: list[Hashable] = []
        with self._lock:
            now = self._clock()
            if len(self._failures) >= MAX_KEYS:
                for key in list(self._failures):
                    self._recent(key, now)
                while len(self._failures) >= MAX_KEYS:
                    # Still full: forget the oldest key that is not locked (spraying new keys must
                    # not wipe a lock), or the oldest of all when every key is locked.
                    unlocked = (k for k in self._failures if self._wait(k, now) <= 0)
                    del self._failures[next(unlocked, next(iter(self._failures)))]
            for key in keys:
                limit = self.rule(key).limit
                times = self._recent(key, now) or self._failures.setdefault(key, deque())
                times.append(now)
                while len(times) > limit:
                    times.popleft()
                if len(times) == limit:
                    newly.append(key)
        return newly

    def reset(self, *keys: Hashable) -> None:
        """Forget the failures of each key (after a successful sign-in)."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


def sign_in_keys(client: str, account: str, device: str | None) -> tuple[Hashable, ...]:
    """The keys one sign-in attempt counts against (see the module's docstring)."""
    name = account.lower()
    if device is not None:
        return ((DEVICE, device, name),)
    return ((PAIR, client, name), (CLIENT, client), (ACCOUNT, name))
