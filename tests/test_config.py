"""The config file: the contract's keys, defaults, and messages that name the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.config import ConfigError, load_config

GOOD = """
data_dir = "data"
[door]
name = "Front entrance"
unlock_seconds = 0.5
[gpio]
backend = "pigpio"
[reader]
d0 = 14
d1 = 15
frame_bits = 26
[strike]
pin = 26
active_low = true
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "doorward.toml"
    path.write_text(text)
    return path


def test_contract_keys(tmp_path: Path) -> None:
    c = load_config(write(tmp_path, GOOD))
    assert c.door.name == "Front entrance" and c.door.unlock_seconds == 0.5
    assert (c.reader.d0, c.reader.d1, c.reader.frame_bits) == (14, 15, 26)
    assert c.strike.pin == 26 and c.strike.active_low
    assert c.data_dir == (tmp_path / "data").resolve()  # relative to the file
    assert c.outputs_backend == "pigpio" and c.door.held_open_seconds == 30


def test_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOORWARD_CONFIG", str(write(tmp_path, GOOD)))
    assert load_config().door.name == "Front entrance"
    monkeypatch.delenv("DOORWARD_CONFIG")
    with pytest.raises(ConfigError, match="DOORWARD_CONFIG"):
        load_config()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("d0 = 14", "d0 = 40"), "reader.d0: Input should be less than or equal to 27"),
        (("d0 = 14", 'd0 = "x"'), "reader.d0: Input should be a valid integer"),
        (("pin = 26", "pin = 15"), "GPIO 15 is used twice: by reader.d1 and by strike.pin"),
        (("unlock_seconds = 0.5", "unlok_seconds = 0.5"), "door.unlok_seconds: unknown key"),
        (
            ('backend = "pigpio"', 'backend = "wiringpi"'),
            "gpio.backend: Input should be 'pigpio', 'gpiod' or 'mock'",
        ),
        (('name = "Front entrance"\n', ""), "door.name: missing"),
        (("frame_bits = 26", 'frame_bits = 26\nformats = ["H99999"]'), "reader.formats"),
        (
            ('data_dir = "data"', 'data_dir = "data"\ntimezone = "Mars/Olympus"'),
            "unknown time zone",
        ),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, GOOD.replace(*change)))
    assert message in str(err.value)
    assert str(tmp_path / "doorward.toml") in str(err.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[door\nname="))
