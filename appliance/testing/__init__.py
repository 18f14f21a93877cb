"""Emulators and stand-ins for testing code that drives a Doorward box, shipped in the package.

As gpiozero ships its mock pin factory and python-can its virtual bus, so other projects' tests,
``bench/`` and the docs' scripts can use these without the repository's ``tests/`` (which holds
only tests). Nothing here imports pytest. Importing this package imports none of its modules: each
names what it needs (``pigpio``, ``gpiod``, ``cryptography``, ``hypothesis`` for the Wiegand
strategies, the ``mosquitto`` binary for the broker). The examples below run as doctests.

``appliance.testing.pigpiod``: a pigpiod on loopback for the real ``pigpio`` client and gpiozero's
PiGPIOFactory (its parts: ``pigpiod_protocol``, ``pigpiod_plan``, ``pigpiod_pins``); also a
process of its own, ``python -m appliance.testing.pigpiod --port 8888``:

>>> from appliance.testing.pigpiod import PigpiodEmulator, card_edges
>>> with PigpiodEmulator() as emu:  # then pigpio.pi(emu.host, emu.port), or PIGPIO_ADDR/_PORT
...     emu.play(card_edges("10000000100000000000000010", 14, 15)).reports
52

``appliance.testing.gpiod_lines``: ``gpiod.request_lines`` without a GPIO chip, and a fake lgpio:

>>> from appliance.hw.gpiod_backend import GpiodEdgeSource
>>> from appliance.testing.gpiod_lines import FakeChip
>>> GpiodEdgeSource(14, 15, request_lines=FakeChip()).close()  # push_edges() on chip.requests[0]

``appliance.testing.box``: a whole box in the test process (config, seeded store, a controller on
the mock back-end), or ``doorward run`` as a process of its own (``start_controller_process``):

>>> import tempfile, pathlib; from appliance.testing.box import decision, mock, running_box
>>> with tempfile.TemporaryDirectory() as tmp, running_box(pathlib.Path(tmp)) as (box, events, _):
...     _ = mock(box).play("10110010000000011111010010", realtime=False)  # H10301 100:1001
...     events.wait(decision("granted", "H10301:100:1001")).reason
'granted'

``appliance.testing.mosquitto``: a real Mosquitto broker on a free port of 127.0.0.1:

>>> from appliance.testing.mosquitto import running_mosquitto
>>> with running_mosquitto(pathlib.Path("broker")) as broker:  # doctest: +SKIP
...     broker.url  # 'mqtt://127.0.0.1:PORT'; stop()/start() keep its store, kill() crashes it

``appliance.testing.pki``: a throwaway certificate authority for TLS tests:

>>> from appliance.testing.pki import Pki
>>> with tempfile.TemporaryDirectory() as tmp:
...     [p.name for p in Pki(pathlib.Path(tmp)).issue("broker", server=True)]
['broker.pem', 'broker.key']

``appliance.testing.switch``: a relay, LED or beeper that records every level it was driven to:

>>> from appliance.testing.switch import RecordingSwitch
>>> strike = RecordingSwitch(); strike.on(); strike.off()
>>> strike.history
[True, False]

``appliance.testing.wiegand_drive``: drive a frame assembler or reader on a fake clock with
waveforms, noise and garbage; ``wiegand_cards``: hypothesis strategies for any card and a check:

>>> from appliance.testing.wiegand_drive import Driver, make_wave
>>> from appliance.wiegand.frames import FrameAssembler
>>> wave = make_wave("10110", start_us=1000, interval_us=2000, width_us=50, jitter=[0] * 4)
>>> [frame.bits for frame in Driver(FrameAssembler(), 0).feed(wave.edges()).settle().results()]
['10110']

``appliance.testing.district``: district rows as the fleet agent writes them
(``add_district_card(store, number, holder)``); ``appliance.testing.chromium``: Debian's Chromium
and its flags for Playwright.

Helpers that check rather than emulate (``box.EventWaiter.wait``, ``box.running_box``,
``box.start_controller_process``, ``wiegand_cards.check_events``) raise ``AssertionError``, as a
test's own assert would, so any test runner reports them as failures (some are plain ``assert``
statements: do not run them under ``python -O``).
"""
