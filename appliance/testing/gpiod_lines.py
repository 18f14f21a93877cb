"""A stand-in for ``gpiod.request_lines`` (there is no GPIO chip here), and a tiny fake lgpio.

``FakeChip`` is called like ``gpiod.request_lines`` and returns a ``FakeLineRequest``: real
``gpiod.EdgeEvent`` objects a test pushes are queued behind an os.pipe fd, one byte per event,
so poll/select on ``fd`` behaves like the kernel's: readable exactly while events are queued.
``FakeLgpio`` is a module object to put in ``sys.modules["lgpio"]`` for gpiozero's LGPIOFactory;
``driven[pin]`` lists every level a pin drove as an output, so a glitch shows.

Limits: only what the gpiod back-end uses (edge events, ``get_values``, ``release``; no output
lines, no reconfiguring, timestamps as the test gives them). FakeLgpio claims, reads and writes
pins; it has no alerts (input callbacks), PWM, I2C or SPI. Needs the ``gpiod`` binding installed.
"""

from __future__ import annotations

import os
import select
import threading
import types
from collections import deque
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import gpiod
from gpiod.exception import RequestReleasedError
from gpiod.line import Value

from appliance.wiegand.edges import HIGH, LOW, Edge

#: libgpiod's default read size when max_events is None.
DEFAULT_READ = 64


class FakeLineRequest:
    """The LineRequest methods the gpiod backend uses, fed by ``push``."""

    def __init__(
        self,
        path: str,
        config: dict[Any, Any],
        consumer: str | None,
        event_buffer_size: int | None,
    ) -> None:
        self.path = path
        self.config = config
        self.consumer = consumer
        self.event_buffer_size = event_buffer_size
        self.settings: dict[int, gpiod.LineSettings] = {}
        for key, settings in config.items():
            for offset in (key,) if isinstance(key, int) else key:
                self.settings[offset] = settings
        self.values = {offset: Value.ACTIVE for offset in self.settings}
        self.read_calls = 0
        self.released = False
        self._events: deque[gpiod.EdgeEvent] = deque()
        self._lock = threading.Lock()
        self._seqno = 0
        self._r, self._w = os.pipe()

    @property
    def fd(self) -> int:
        self._check()
        return self._r

    def fileno(self) -> int:
        return self.fd

    def push(self, events: Iterable[gpiod.EdgeEvent]) -> None:
        """Queue events as the kernel would, making the fd readable."""
        events = list(events)
        with self._lock:
            self._check()
            self._events.extend(events)
            os.write(self._w, b"e" * len(events))

    def push_edges(self, offsets: tuple[int, int], edges: Iterable[Edge]) -> None:
        """Queue ``edges`` (line D0/D1 -> offsets[line], t_us -> ns) as real EdgeEvents."""
        self.push(self.event(offsets[e.line], e.level, e.t_us * 1000) for e in edges)

    def event(self, offset: int, level: int, timestamp_ns: int) -> gpiod.EdgeEvent:
        """A real EdgeEvent: LOW is a falling edge, HIGH a rising one."""
        assert level in (LOW, HIGH)
        kind = (
            gpiod.EdgeEvent.Type.FALLING_EDGE if level == LOW else gpiod.EdgeEvent.Type.RISING_EDGE
        )
        self._seqno += 1
        return gpiod.EdgeEvent(kind.value, timestamp_ns, offset, self._seqno, self._seqno)

    def wait_edge_events(self, timeout: timedelta | float | None = None) -> bool:
        self._check()
        seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
        readable, _, _ = select.select([self._r], [], [], seconds)
        return bool(readable)

    def read_edge_events(self, max_events: int | None = None) -> list[gpiod.EdgeEvent]:
        with self._lock:
            self._check()
            self.read_calls += 1
            count = min(len(self._events), max_events or DEFAULT_READ)
            out = [self._events.popleft() for _ in range(count)]
            if count:
                os.read(self._r, count)
            return out

    def get_values(self, lines: Iterable[int] | None = None) -> list[Value]:
        self._check()
        return [self.values[offset] for offset in (lines or list(self.settings))]

    def release(self) -> None:
        with self._lock:
            if not self.released:
                self.released = True
                os.close(self._r)
                os.close(self._w)

    def __enter__(self) -> FakeLineRequest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _check(self) -> None:
        if self.released:
            raise RequestReleasedError()


class FakeChip:
    """Called like ``gpiod.request_lines``; records each request, or raises ``error`` if set."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error
        self.requests: list[FakeLineRequest] = []

    def __call__(
        self,
        path: str,
        config: dict[Any, Any],
        consumer: str | None = None,
        event_buffer_size: int | None = None,
        output_values: dict[Any, Any] | None = None,
    ) -> FakeLineRequest:
        if self.error is not None:
            raise self.error
        request = FakeLineRequest(path, config, consumer, event_buffer_size)
        self.requests.append(request)
        return request


class LgpioError(Exception):
    """Stands in for ``lgpio.error``."""


class FakeLgpio(types.ModuleType):
    """Just enough of the ``lgpio`` module for gpiozero's LGPIOFactory, recording each level driven.

    ``driven[pin]`` lists every level the pin drove as an output, in order: a glitch shows up there.
    """

    BOTH_EDGES, RISING_EDGE, FALLING_EDGE = 3, 1, 2
    SET_PULL_NONE, SET_PULL_UP, SET_PULL_DOWN = 0x80, 0x20, 0x40
    SET_BIAS_DISABLE, SET_BIAS_PULL_UP, SET_BIAS_PULL_DOWN = 0x80, 0x20, 0x40
    error = LgpioError

    def __init__(self, latch: dict[int, int] | None = None, fail_open: bool = False) -> None:
        super().__init__("lgpio")
        self.latch: dict[int, int] = dict(latch or {})
        self.output: set[int] = set()
        self.driven: dict[int, list[int]] = {}
        self.calls: list[tuple[str, int]] = []
        self.fail_open = fail_open

    def gpiochip_open(self, chip: int) -> int:
        if self.fail_open:
            raise LgpioError("can not open gpiochip")
        return 7

    def gpiochip_close(self, handle: int) -> None:
        pass

    def gpio_claim_input(self, handle: int, gpio: int, flags: int = 0) -> None:
        self.calls.append(("claim_input", gpio))
        self.output.discard(gpio)

    def gpio_claim_output(self, handle: int, gpio: int, level: int = 0, flags: int = 0) -> None:
        self.calls.append(("claim_output", gpio))
        self.output.add(gpio)
        self._drive(gpio, level)

    def gpio_write(self, handle: int, gpio: int, level: int) -> None:
        self.calls.append(("write", gpio))
        if gpio not in self.output:
            raise LgpioError("GPIO not allocated for output")
        self._drive(gpio, int(level))

    def gpio_read(self, handle: int, gpio: int) -> int:
        return self.latch.get(gpio, 0)

    def gpio_get_mode(self, handle: int, gpio: int) -> int:
        return 2 if gpio in self.output else 0

    def gpio_free(self, handle: int, gpio: int) -> None:
        self.output.discard(gpio)

    def _drive(self, gpio: int, level: int) -> None:
        self.latch[gpio] = level
        self.driven.setdefault(gpio, []).append(level)
