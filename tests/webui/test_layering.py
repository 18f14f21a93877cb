"""The admin page never touches hardware, and its sign-in limiter counts as documented."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from webui.ratelimit import RateLimiter

WEBUI = Path(__file__).resolve().parents[2] / "webui"
HARDWARE = ("appliance.hw", "gpiozero", "pigpio", "gpiod", "lgpio", "appliance.controller.daemon")


def test_webui_source_imports_no_hardware() -> None:
    for module in WEBUI.rglob("*.py"):
        for name in HARDWARE:
            assert not re.search(
                rf"^\s*(from|import)\s+{re.escape(name)}\b", module.read_text(), re.M
            )


def test_building_the_app_loads_no_hardware_module() -> None:
    code = (
        "import sys, webui, webui.auth, webui.dashboard, webui.door, webui.fobs, webui.users\n"
        f"bad = [m for m in sys.modules if m.startswith({HARDWARE!r})]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


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
