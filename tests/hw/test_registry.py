"""The one back-end registry: every name resolves, a missing module says what to install."""

from __future__ import annotations

import importlib
import sys
import typing
from pathlib import Path

import pytest

from appliance import hw
from appliance.config import ConfigError, GpioSection, load_config
from appliance.hw import (
    BACKENDS,
    OUTPUT_BACKENDS,
    READER_BACKENDS,
    Edge,
    HardwareError,
    edge_source,
    outputs_for,
    pin_factory,
)
from appliance.hw.io import output_pin
from appliance.hw.mock_backend import LatchingMockPin, MockEdgeSource
from appliance.wiegand.waveform import waveform

CARD = "10000000100000000000000010"  # H10301 facility 1, card 1


def test_the_names_are_the_configs_names() -> None:
    assert READER_BACKENDS == ("pigpio", "gpiod", "mock")
    assert OUTPUT_BACKENDS == ("pigpio", "lgpio", "rpigpio", "mock")
    assert set(BACKENDS) == {*READER_BACKENDS, *OUTPUT_BACKENDS}
    # config.py may not import hw (the admin page loads it): its lists are held to the registry here
    fields = GpioSection.model_fields
    assert typing.get_args(fields["backend"].annotation) == READER_BACKENDS
    outputs = typing.get_args(fields["outputs"].annotation)
    assert typing.get_args(outputs[0]) == OUTPUT_BACKENDS and outputs[1] is type(None)


@pytest.mark.parametrize("name", list(BACKENDS))
def test_every_backend_resolves(name: str) -> None:
    entry = hw.backend(name)
    assert entry.description and entry.needs
    loaders = [entry.edges] if entry.edges is not None else []
    if ":" in entry.pins:
        loaders.append(entry.pins)
    else:  # a name: the back-end whose pin factory drives this one's outputs
        assert entry.pins in OUTPUT_BACKENDS
    assert loaders
    for loader in loaders:
        module, _, function = loader.partition(":")
        assert module.startswith("appliance.hw.")
        assert callable(getattr(importlib.import_module(module), function))
    assert outputs_for(name) in OUTPUT_BACKENDS


@pytest.mark.parametrize("reader", READER_BACKENDS)
def test_outputs_follow_the_reader_as_the_config_says(tmp_path: Path, reader: str) -> None:
    path = tmp_path / "doorward.toml"
    path.write_text(
        f'data_dir = "data"\n[door]\nname = "Front"\n[gpio]\nbackend = "{reader}"\n'
        "[reader]\nd0 = 14\nd1 = 15\n[strike]\npin = 26\n"
    )
    assert load_config(path).outputs_backend == outputs_for(reader)
    assert outputs_for("gpiod") == "lgpio"


def test_a_config_naming_an_unknown_backend_lists_the_registered_ones(tmp_path: Path) -> None:
    path = tmp_path / "doorward.toml"
    path.write_text(
        'data_dir = "data"\n[door]\nname = "Front"\n[gpio]\nbackend = "wiringpi"\n'
        "[reader]\nd0 = 14\nd1 = 15\n[strike]\npin = 26\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert all(f"'{name}'" in str(err.value) for name in READER_BACKENDS)


def test_the_mock_backend_reads_a_card_and_drives_an_output() -> None:
    edges: list[Edge] = []
    with edge_source("mock", 14, 15, clock=lambda: 1_000) as source:
        assert isinstance(source, MockEdgeSource)
        source.start(edges.append)
        assert source.play(CARD, realtime=False).done
    assert edges == [e._replace(t_us=1_000 + e.t_us) for e in waveform(CARD, 0)]
    factory = pin_factory("mock")
    try:
        relay = output_pin(factory, 26, active_high=False)
        assert isinstance(factory.pin(26), LatchingMockPin)
        relay.on()
        assert relay.is_active and factory.pin(26).state is False  # active low
    finally:
        factory.close()


@pytest.mark.parametrize("call", [edge_source, pin_factory])
def test_an_unknown_name_is_refused_with_the_list(call: typing.Any) -> None:
    args = (14, 15) if call is edge_source else ()
    with pytest.raises(HardwareError) as err:
        call("wiringpi", *args)
    message = str(err.value)
    assert "unknown gpio backend 'wiringpi'" in message
    known = READER_BACKENDS if call is edge_source else tuple(BACKENDS)
    assert f"expected one of {', '.join(known)}" in message


@pytest.mark.parametrize("name", ["lgpio", "rpigpio"])
def test_an_outputs_only_backend_never_reads(name: str) -> None:
    with pytest.raises(HardwareError, match=f"the {name} backend cannot read") as err:
        edge_source(name, 14, 15)
    assert "pigpio, gpiod, mock" in str(err.value)


def _forget(monkeypatch: pytest.MonkeyPatch, missing: str, *loaded: str) -> None:
    """Make ``import missing`` fail, and forget the modules that bound it at their import."""
    monkeypatch.setitem(sys.modules, missing, None)  # type: ignore[arg-type]
    for name in loaded:
        if name in sys.modules:
            monkeypatch.delitem(sys.modules, name)


def test_pigpio_absent_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _forget(monkeypatch, "pigpio", "appliance.hw.pigpio_backend", "gpiozero.pins.pigpio")
    with pytest.raises(HardwareError, match="the pigpio backend cannot load") as err:
        edge_source("pigpio", 14, 15)
    assert "pip install pigpio" in str(err.value)
    with pytest.raises(HardwareError, match="the pigpio backend cannot load"):
        pin_factory("pigpio")


def test_gpiod_absent_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _forget(monkeypatch, "gpiod", "appliance.hw.gpiod_backend")
    with pytest.raises(HardwareError, match="the gpiod backend cannot load") as err:
        edge_source("gpiod", 14, 15, chip="/dev/gpiochip0")
    assert "pip install 'gpiod>=2.2'" in str(err.value)


def test_gpiod_outputs_go_through_lgpio_and_say_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _forget(monkeypatch, "gpiod", "appliance.hw.gpiod_backend")  # not needed for outputs
    _forget(monkeypatch, "lgpio", "gpiozero.pins.lgpio")
    with pytest.raises(HardwareError, match=r"pip install 'doorward\[lgpio\]'"):
        pin_factory("gpiod")


def test_rpigpio_absent_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _forget(monkeypatch, "RPi", "gpiozero.pins.rpigpio")
    with pytest.raises(HardwareError, match=r"RPi\.GPIO is not installed"):
        pin_factory("rpigpio")
