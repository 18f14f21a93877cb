"""The sign-in limiter counts as documented (the admin page's layering: tests/test_layering.py)."""

from __future__ import annotations

import pytest

from webui.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_limiter_locks_after_the_limit_until_the_oldest_failure_expires() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=3, window=60, clock=clock)
    for t in (0, 10, 20):
        clock.now = t
        assert limiter.retry_after("k") == 0
        limiter.fail("k")
    assert limiter.retry_after("k") == pytest.approx(40)  # the failure at 0 expires at 60
    assert limiter.retry_after("other") == 0
    clock.now = 60
    assert limiter.retry_after("k") == 0
    limiter.fail("k")  # failures at 10, 20, 60: locked again until 70
    assert limiter.retry_after("k") == pytest.approx(10)
    limiter.reset("k")
    assert limiter.retry_after("k") == 0


def test_limiter_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from webui import ratelimit

    monkeypatch.setattr(ratelimit, "MAX_KEYS", 10)
    limiter = RateLimiter(limit=1, window=60, clock=Clock())
    for n in range(50):
        limiter.fail(f"user{n}")
    assert len(limiter._failures) <= 10
    assert limiter.retry_after("user49") > 0


def test_spraying_new_keys_does_not_wipe_a_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    from webui import ratelimit

    monkeypatch.setattr(ratelimit, "MAX_KEYS", 10)
    limiter = RateLimiter(limit=2, window=60, clock=Clock())
    limiter.fail("account")
    limiter.fail("account")
    for n in range(50):  # one failure each: none of them locked
        limiter.fail(f"sprayed{n}")
    assert len(limiter._failures) <= 10
    assert limiter.retry_after("account") > 0


def test_limiter_refuses_nonsense_settings() -> None:
    with pytest.raises(ValueError):
        RateLimiter(limit=0)
    with pytest.raises(ValueError):
        RateLimiter(window=0)
