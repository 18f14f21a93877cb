"""The console's card, holder and group commands: the district's own store, never a box's.

No Config is made and no control socket dialled (there is no controller at the district); one
command opens the district's store once, for the change, its staging and its publishing.
"""

from __future__ import annotations

import argparse
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Self

import pytest

import appliance.cli.common
import appliance.config
from appliance import control
from appliance.cli import cards
from appliance.config import Config
from appliance.district.console import District, Publisher
from appliance.district.state import VERSION, DistrictStore
from appliance.fleet.link import LinkError
from appliance.store import Store
from tests.cli.util import Cli

ADD = ["card", "add", "--format", "H10301", "--facility", "12", "--number"]


def fleet(cli: Cli, district: District, *argv: str) -> Any:
    return cli("fleet", "--district", str(district.path), *argv)


def version(district: District) -> int:
    with district.store() as store:
        return DistrictStore(store).meta_int(VERSION)


@pytest.fixture
def no_box(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every way to a box's config or its controller refuses, and says it was tried."""
    tried: list[str] = []

    def refuse(what: str) -> Any:
        def boom(*args: Any, **kwargs: Any) -> Any:
            tried.append(what)
            raise AssertionError(f"the district console used {what}")

        return boom

    for module in (appliance.config, appliance.cli.common):
        monkeypatch.setattr(module, "load_config", refuse("load_config"))
    monkeypatch.setattr(appliance.config, "parse_config", refuse("parse_config"))
    monkeypatch.setattr(Config, "__init__", refuse("Config()"))
    monkeypatch.setattr(Config, "model_validate", classmethod(refuse("Config.model_validate")))
    monkeypatch.setattr(control.Control, "request", refuse("the control client"))
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> None:
        if sock.family == socket.AF_UNIX:
            refuse(f"a Unix socket ({address})")()
        real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    yield tried
    assert tried == []


def test_district_card_commands_make_no_config_and_call_no_controller(
    tmp_path: Path, cli: Cli, district: District, no_box: list[str]
) -> None:
    (tmp_path / "fobs.csv").write_text(
        "format,facility,number,holder,serial,group\nH10301,12,2,Ms. Kim Lee,KW-2,staff\n"
    )
    runs = [
        ["group", "add", "custodians", "--window", "mon-fri,06:00-18:00"],
        ["holder", "add", "Officer Jane Ortiz", "--agency", "Casper Police Department"],
        [*ADD, "1", "--holder", "Officer Jane Ortiz", "--serial", "CPD-1", "--group", "responders"],
        ["card", "import", str(tmp_path / "fobs.csv")],
        ["card", "lost", "--serial", "KW-2"],
        ["revoke", "--serial", "CPD-1", "--reason", "left the force"],
        ["card", "list"],
        ["holder", "list"],
        ["group", "list"],
        ["card", "export", "--output", str(tmp_path / "out.csv")],
    ]
    for argv in runs:
        result = fleet(cli, district, *argv)
        assert result.code == 0, f"{argv}: {result.err}"
    assert no_box == []
    assert version(district) == 5  # the group, the card, the import, lost, revoked: each published
    with district.store() as store:
        assert DistrictStore(store).unpublished() == []
        rows = {r.serial: r.status.value for r in store.cards.list()}
    assert rows == {"CPD-1": "revoked", "KW-2": "lost"}
    assert "CPD-1" in (tmp_path / "out.csv").read_text()


@pytest.fixture
def store_opens(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The path of every Store made from now on."""
    opened: list[Path] = []
    real_init = Store.__init__

    def counting(self: Store, path: Path, *args: Any, **kwargs: Any) -> None:
        opened.append(Path(path))
        real_init(self, path, *args, **kwargs)

    monkeypatch.setattr(Store, "__init__", counting)
    return opened


def test_one_fleet_revoke_opens_the_district_store_once(
    cli: Cli, district: District, store_opens: list[Path]
) -> None:
    assert fleet(cli, district, *ADD, "7", "--holder", "Ofc. Diaz", "--serial", "PD-7").code == 0
    assert len(store_opens) == 1
    store_opens.clear()
    result = fleet(cli, district, "revoke", "--serial", "PD-7", "--reason", "lost on patrol")
    assert result.code == 0, result.err
    assert "published list version 2" in result.out and "PD-7" not in result.err
    assert store_opens == [district.data_dir / "doorward.db"]


@pytest.mark.parametrize(
    "argv",
    [["publish"], ["lockdown", "on", "--school", "Kelly Walsh"], ["lockdown", "off", "--all"]],
)
def test_publishing_commands_open_the_district_store_once(
    cli: Cli, district: District, store_opens: list[Path], argv: list[str]
) -> None:
    result = fleet(cli, district, *argv)
    assert result.code == 0, result.err
    assert "published list version 1" in result.out
    assert store_opens == [district.data_dir / "doorward.db"]


def test_a_change_the_broker_never_took_is_kept_and_said_so(
    cli: Cli, district: District, store_opens: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as m:

        def unreachable(self: Publisher, timeout: float = 0.0) -> list[int]:
            raise LinkError("cannot reach the broker")

        m.setattr(Publisher, "publish", unreachable)
        result = fleet(cli, district, *ADD, "9", "--holder", "Ofc. Diaz", "--serial", "PD-9")
    assert result.code == 1 and "added H10301:12:9 for Ofc. Diaz" in result.out
    assert "stored at the district but not yet published (cannot reach the broker)" in result.err
    assert store_opens == [district.data_dir / "doorward.db"]
    with district.store() as store:
        assert [p.version for p in DistrictStore(store).unpublished()] == [1]
    result = fleet(cli, district, "publish")  # the change first, then a snapshot
    assert result.code == 0 and "published list version 2" in result.out
    with district.store() as store:
        assert DistrictStore(store).unpublished() == []


class Recording:
    """A target that records what the commands hand it."""

    ON: ClassVar[str] = "--config /dev/null"
    calls: ClassVar[list[tuple[bool, int | None]]] = []
    path: ClassVar[Path]

    @classmethod
    def for_args(cls, args: argparse.Namespace) -> Self:
        return cls()

    def open_store(self) -> Store:
        self.store = Store(self.path)
        return self.store

    def actor(self) -> str:
        return "district:recorder"

    def changed(self, store: Store, rev: int | None) -> int:
        assert store is self.store
        self.calls.append((store.current_rev() == rev, rev))
        return 7 if rev is None else 5


def test_commands_hand_their_open_store_and_its_rev_to_the_target(tmp_path: Path) -> None:
    with Store.for_data_dir(tmp_path) as store:
        store.init("Front entrance")
    Recording.path = tmp_path / "doorward.db"
    Recording.calls = []
    parser = argparse.ArgumentParser()
    cards.register(parser.add_subparsers(), Recording)

    def run(*argv: str) -> int:
        args = parser.parse_args(argv)
        code: int = args.handler(args)
        return code

    assert run("group", "add", "custodians") == 5
    assert run("holder", "add", "Ann") == 7  # nothing a door decides on: no rev
    fob = ["--format", "H10301", "--facility", "1", "--number", "1"]
    assert run("card", "add", *fob, "--holder", "Ann") == 5
    assert run("card", "lost", *fob) == 5
    assert run("card", "list") == 0 and run("group", "list") == 0
    assert [same for same, _ in Recording.calls] == [True, False, True, True]
    group, holder, added, lost = (rev for _, rev in Recording.calls)
    assert holder is None and group is not None and added is not None and lost is not None
    assert group < added < lost
    with Store(Recording.path) as store:  # every change is recorded as the target's actor
        actors = {e.actor for e in store.events.query(kinds=["admin"], limit=100)}
    assert actors == {"district:recorder", "doorward init"}  # init: the built-in groups
