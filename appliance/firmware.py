"""The Raspberry Pi firmware's part of a safe power-on: ``gpio=`` lines for ``config.txt``.

From power-on until the firmware reads ``config.txt`` every GPIO is an input with its reset pull
(BCM 0-8 up, 9-27 down); from then until the controller starts, the ``gpio=`` lines hold each
output at its inactive level (the strike at its locked level) and give each input its pull.
Pure: text in, text out.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.config import Config, InputSection

BEGIN = "# doorward: begin gpio"
END = "# doorward: end gpio"
PULLED_UP_AT_RESET = frozenset(range(9))  # BCM 0-8; 9-27 are pulled down
FIXED_PULL_UPS = frozenset({2, 3})  # I2C1: 1.8 kOhm pull-ups on the board itself
ID_EEPROM = frozenset({0, 1})  # a HAT's ID EEPROM (I2C0): the firmware reads it at boot
SERIAL_CONSOLE = frozenset({14, 15})  # UART TX/RX: the image's serial console


class FirmwareConfigError(ValueError):
    """``config.txt`` cannot be rewritten safely (e.g. a marker without its pair)."""


@dataclass(frozen=True, slots=True)
class PinSetting:
    """One pin as the firmware sets it: ``gpio=<bcm>=<mode>,<level or pull>``, and why."""

    key: str
    bcm: int
    mode: str  # "op" (output) or "ip" (input)
    arg: str  # "dh"/"dl" (drive high/low) for outputs, "pu"/"pd"/"pn" (pull) for inputs
    why: str

    @property
    def line(self) -> str:
        """The ``config.txt`` line."""
        return f"gpio={self.bcm}={self.mode},{self.arg}"


def strike_locked_high(config: Config) -> bool:
    """The strike pin's level when the door is locked: high or low.

    The relay is energised while locked for a fail-safe maglock and only to unlock for a
    fail-secure strike; an active-low relay input is energised by a low pin.
    """
    energised_when_locked = config.door.lock_type == "fail_safe"
    energised_high = not config.strike.active_low
    return energised_when_locked == energised_high


def _drive(high: bool) -> str:
    return "dh" if high else "dl"


def _input(key: str, section: InputSection, what: str) -> PinSetting:
    if section.pull_up:
        return PinSetting(key, section.pin, "ip", "pu", f"{what}: input, pulled up")
    return PinSetting(key, section.pin, "ip", "pd", f"{what}: input, pulled down")


def pin_settings(config: Config) -> list[PinSetting]:
    """Every configured pin as the firmware should set it at boot, in the config's order."""
    lock = "fail-safe maglock" if config.door.lock_type == "fail_safe" else "fail-secure strike"
    relay = "active low" if config.strike.active_low else "active high"
    high = strike_locked_high(config)
    settings = [
        PinSetting("reader.d0", config.reader.d0, "ip", "pu", "reader D0: input, pulled up"),
        PinSetting("reader.d1", config.reader.d1, "ip", "pu", "reader D1: input, pulled up"),
        PinSetting(
            "strike.pin",
            config.strike.pin,
            "op",
            _drive(high),
            f"strike relay ({lock}, relay input {relay}): held locked, "
            f"driven {'high' if high else 'low'}",
        ),
    ]
    r = config.reader
    for key, pin, active_low, what in (
        ("reader.led_pin", r.led_pin, r.led_active_low, "reader LED"),
        ("reader.beeper_pin", r.beeper_pin, r.beeper_active_low, "reader beeper"),
    ):
        if pin is not None:
            settings.append(PinSetting(key, pin, "op", _drive(active_low), f"{what}: off"))
    for key, section, what in (
        ("dps.pin", config.dps, "door position switch"),
        ("rex.pin", config.rex, "request to exit"),
        ("lockdown_button.pin", config.lockdown_button, "lockdown button"),
    ):
        if section is not None:
            settings.append(_input(key, section, what))
    return settings


def gpio_lines(config: Config) -> list[str]:
    """The block's lines for ``config.txt``: a comment, then the ``gpio=`` line, for each pin."""
    lines: list[str] = []
    for setting in pin_settings(config):
        lines += [f"# {setting.why}", setting.line]
    return lines


def replace_gpio_block(text: str, lines: list[str]) -> str:
    """``config.txt``'s text with the block between the markers replaced by ``lines``.

    Without the markers the block is appended under ``[all]`` (so no model filter above it
    applies). A marker without its pair, or twice, is refused: guessing could drop a line.
    """
    rows = text.splitlines()
    begins = [i for i, row in enumerate(rows) if row.strip() == BEGIN]
    ends = [i for i, row in enumerate(rows) if row.strip() == END]
    block = [BEGIN, *lines, END]
    if not begins and not ends:
        tail = [""] if rows and rows[-1].strip() else []
        return "\n".join([*rows, *tail, "[all]", *block]) + "\n"
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise FirmwareConfigError(
            f"config.txt: expected one '{BEGIN}' line followed by one '{END}' line "
            f"(found {len(begins)} and {len(ends)}): fix it by hand"
        )
    return "\n".join([*rows[: begins[0]], *block, *rows[ends[0] + 1 :]]) + "\n"


def current_gpio_block(text: str) -> list[str] | None:
    """The lines between the markers (None if there is no well-formed block)."""
    rows = text.splitlines()
    try:
        begin = [r.strip() for r in rows].index(BEGIN)
        end = [r.strip() for r in rows].index(END, begin)
    except ValueError:
        return None
    return rows[begin + 1 : end]


def power_on_problems(config: Config) -> list[str]:
    """What is not safe about this pin map between power-on and the firmware's ``gpio=`` lines.

    The rule: each output must already be at its inactive level (the strike at its locked
    level) under its pin's reset pull (BCM 0-8 up, 9-27 down; 2 and 3 have fixed pull-ups);
    a fail-safe maglock is released while unpowered anyway, so only fail-secure strikes are
    held to it. No pin may be one the boot uses: 0 and 1 (a HAT's ID EEPROM), 14 and 15 (the
    serial console). An input pulled down cannot be on 2 or 3 (their fixed pull-ups win).
    """
    problems: list[str] = []
    for key, pin in config.pins().items():
        if pin in ID_EEPROM:
            problems.append(
                f"{key}: GPIO {pin} is the HAT ID EEPROM's bus, read by the firmware at boot"
            )
        if pin in SERIAL_CONSOLE:
            problems.append(f"{key}: GPIO {pin} is the serial console's UART")
    for setting in pin_settings(config):
        pulled_high = setting.bcm in PULLED_UP_AT_RESET
        reset = "up" if pulled_high else "down"
        if setting.mode == "ip":
            if setting.arg == "pd" and setting.bcm in FIXED_PULL_UPS:
                problems.append(
                    f"{setting.key}: GPIO {setting.bcm} has a fixed pull-up on the board: "
                    "an input pulled down cannot work there"
                )
            continue
        inactive_high = setting.arg == "dh"
        if setting.key == "strike.pin" and config.door.lock_type == "fail_safe":
            continue
        if inactive_high != pulled_high:
            what = "unlocks the strike" if setting.key == "strike.pin" else "turns it on"
            problems.append(
                f"{setting.key}: GPIO {setting.bcm} is pulled {reset} from power-on until the "
                f"firmware reads config.txt, which {what}: use a pin pulled "
                f"{'up (BCM 4-8)' if inactive_high else 'down (BCM 9-27)'} at reset"
            )
    return problems
