"""The district console: the master list in its own Store, signed and published to every box.

A district directory holds ``district.toml`` (name, broker, TLS files, snapshot cadence), the
Ed25519 private key ``district.key`` (0600), its public half ``district.pub`` (for the boxes'
config) and ``data/doorward.db``. Every list message is built, signed and logged in one
transaction first and published afterwards, so one the broker never acknowledged goes again
byte for byte, and a version number is never used for two different messages.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import Field, ValidationError, field_validator

from appliance.district import state as cs
from appliance.fleet import topics
from appliance.fleet.link import Link, LinkError, Tls, parse_broker
from appliance.fleet.messages import MAX_CHANGE_CREDENTIALS
from appliance.fleet.section import BrokerLink
from appliance.fleet.signing import (
    load_private_key,
    new_private_key,
    private_key_pem,
    public_key_text,
    seal,
)
from appliance.store import Store, StoreError

LOG = logging.getLogger(__name__)
CONFIG_NAME = "district.toml"
KEY_NAME = "district.key"
PUBLIC_NAME = "district.pub"
CONSOLE_DOOR = "District console"
ACK_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 5.0


class DistrictError(RuntimeError):
    """The district directory is missing, unreadable or inconsistent; the message says why."""


class DistrictConfig(BrokerLink):
    """``district.toml``."""

    district: str
    snapshot_every: int = Field(100, ge=1, le=1_000_000)

    @field_validator("district")
    @classmethod
    def _name(cls, value: str) -> str:
        return topics.check_name(value, "district")


@dataclass(frozen=True)
class District:
    """An opened district directory."""

    path: Path
    config: DistrictConfig
    key: Ed25519PrivateKey

    @property
    def name(self) -> str:
        """The district's name (its topic namespace)."""
        return self.config.district

    @property
    def data_dir(self) -> Path:
        """Where the console's Store lives."""
        return self.path / "data"

    def store(self) -> Store:
        """The console's Store (the master list and the district tables)."""
        return Store(self.data_dir / "doorward.db")

    def link(self, client_id: str | None = None, **kwargs: Any) -> Link:
        """An MQTT client for this district's broker."""
        c = self.config
        tls = Tls(
            *(
                None if p is None else _under(self.path, p)
                for p in (c.ca_file, c.cert_file, c.key_file)
            )
        )
        return Link(
            parse_broker(c.broker),
            client_id or f"doorward-console-{self.name}-{os.getpid()}",
            tls=tls,
            **kwargs,
        )


def _under(base: Path, path: Path) -> Path:
    return path if path.is_absolute() else base / path


def init_district(
    path: Path,
    name: str,
    broker: str,
    *,
    snapshot_every: int = 100,
    ca_file: Path | None = None,
    cert_file: Path | None = None,
    key_file: Path | None = None,
) -> District:
    """Create a district directory (refuses one that exists and has a key)."""
    if (path / KEY_NAME).exists():
        raise DistrictError(f"{path} already holds a district key: refusing to replace it")
    fields: dict[str, Any] = {"district": name, "broker": broker, "snapshot_every": snapshot_every}
    for name_, value in (("ca_file", ca_file), ("cert_file", cert_file), ("key_file", key_file)):
        if value is not None:
            fields[name_] = str(Path(value).resolve())
    try:
        config = DistrictConfig.model_validate(fields)
    except ValidationError as err:
        raise DistrictError(_describe(err, "district")) from None
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = new_private_key()
    fd = os.open(path / KEY_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(private_key_pem(key))
    (path / PUBLIC_NAME).write_text(public_key_text(key.public_key()) + "\n")
    lines = [f"{k} = {json.dumps(v)}" for k, v in fields.items()]
    (path / CONFIG_NAME).write_text(
        "# The district console (doorward fleet --district DIR ...)\n" + "\n".join(lines) + "\n"
    )
    with Store.for_data_dir(path / "data") as store:
        store.init(CONSOLE_DOOR, actor="doorward fleet init")
    return District(path, config, key)


def open_district(path: Path) -> District:
    """Read a district directory made by ``init_district``."""
    config_path = path / CONFIG_NAME
    try:
        with config_path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise DistrictError(
            f"{path} is not a district directory (no {CONFIG_NAME}): run 'doorward fleet "
            f"--district {path} init' first"
        ) from None
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise DistrictError(f"{config_path}: cannot read it ({err})") from None
    try:
        config = DistrictConfig.model_validate(data)
    except ValidationError as err:
        raise DistrictError(_describe(err, str(config_path))) from None
    try:
        key = load_private_key(path / KEY_NAME)
    except ValueError as err:
        raise DistrictError(str(err)) from None
    if not (path / "data" / "doorward.db").exists():
        raise DistrictError(
            f"{path}/data/doorward.db is missing: the district directory is incomplete"
        )
    return District(path, config, key)


def _describe(err: ValidationError, where: str) -> str:
    return "\n".join(
        f"{where}: {'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
        for e in err.errors()
    )


# -- building and publishing list messages -------------------------------------------------


class Publisher:
    """Turns the master list's changes into signed, logged, then published list messages."""

    def __init__(self, district: District, store: Store) -> None:
        self.district = district
        self.state = cs.DistrictStore(store)

    def _seal(self, body: dict[str, Any]) -> bytes:
        payload = seal(self.district.key, body)
        limit = self.district.config.max_message_bytes
        if len(payload) > limit:
            raise DistrictError(
                f"the {body['type']} is {len(payload)} bytes signed; max_message_bytes is {limit}"
            )
        return payload

    def _snapshot(self, tx: cs.Staging, actor: str) -> int:
        version = tx.meta_int(cs.VERSION) + 1
        creds = tx.credentials()
        groups = tx.groups()
        lockdown = tx.meta_json(cs.LOCKDOWN) or {"all": False, "schools": []}
        body = {
            "type": "snapshot",
            "district": self.district.name,
            "version": version,
            "issued_at": time.time(),
            "groups": groups,
            "credentials": creds,
            "lockdown": lockdown,
        }
        payload = self._seal(body)
        summary = {"credentials": len(creds), "groups": len(groups), "bytes": len(payload)}
        tx.log(
            version,
            "snapshot",
            topics.snapshot(self.district.name),
            payload,
            actor=actor,
            summary=summary,
        )
        tx.set_meta(cs.PUBLISHED_REV, tx.rev())
        tx.set_meta(cs.GROUPS, groups)
        return version

    def _change(
        self, tx: cs.Staging, actor: str, lockdown: dict[str, Any] | None = None
    ) -> int | None:
        """Log a change with what the list gained since the last message (None: nothing)."""
        since = tx.meta_int(cs.PUBLISHED_REV)
        rev = tx.rev()
        creds = tx.credentials(since) if rev > since else []
        groups = tx.groups()
        changed_groups = groups if groups != (tx.meta_json(cs.GROUPS) or []) else None
        tx.set_meta(cs.PUBLISHED_REV, rev)
        if not creds and changed_groups is None and lockdown is None:
            return None
        if len(creds) > MAX_CHANGE_CREDENTIALS:
            return self._snapshot(tx, actor)
        version = tx.meta_int(cs.VERSION) + 1
        body = {
            "type": "change",
            "district": self.district.name,
            "version": version,
            "issued_at": time.time(),
            "groups": changed_groups,
            "credentials": creds,
            "lockdown": lockdown,
        }
        payload = self._seal(body)
        summary: dict[str, Any] = {"credentials": len(creds), "bytes": len(payload)}
        if changed_groups is not None:
            summary["groups"] = len(changed_groups)
            tx.set_meta(cs.GROUPS, groups)
        if lockdown is not None:
            summary["lockdown"] = lockdown
        tx.log(
            version,
            "change",
            topics.change(self.district.name, version),
            payload,
            actor=actor,
            summary=summary,
        )
        return version

    def _maybe_snapshot(self, tx: cs.Staging, actor: str) -> None:
        every = self.district.config.snapshot_every
        if tx.meta_int(cs.VERSION) - tx.meta_int(cs.SNAPSHOT_VERSION) >= every:
            tx.set_meta(cs.SNAPSHOT_VERSION, self._snapshot(tx, actor))

    def stage_changes(self, actor: str) -> int | None:
        """Log a change for whatever the master list gained since the last message."""
        with self.state.stage("staging the district's changes") as tx:
            version = self._change(tx, actor)
            if version is not None:
                self._maybe_snapshot(tx, actor)
            return version

    def stage_snapshot(self, actor: str) -> int:
        """Log pending changes, then a snapshot of the whole list."""
        with self.state.stage("staging a snapshot") as tx:
            self._change(tx, actor)
            version = self._snapshot(tx, actor)
            tx.set_meta(cs.SNAPSHOT_VERSION, version)
            return version

    def stage_lockdown(self, on: bool, school: str | None, reason: str | None, actor: str) -> int:
        """Log a lockdown command for one school (or all, school None) after pending changes."""
        with self.state.stage("staging a lockdown") as tx:
            self._change(tx, actor)
            state = tx.meta_json(cs.LOCKDOWN) or {"all": False, "schools": []}
            schools: list[str] = list(state["schools"])
            if school is None:
                state = {"all": on, "schools": schools if on else []}
            else:
                folded = school.strip().casefold()
                if not on and state["all"]:
                    raise DistrictError(
                        "the whole district is locked down: lift it with 'lockdown off --all'"
                    )
                schools = [s for s in schools if s.strip().casefold() != folded]
                if on:
                    schools.append(school.strip())
                state = {"all": state["all"], "schools": schools}
            tx.set_meta(cs.LOCKDOWN, state)
            command = {"on": on, "school": school.strip() if school else None, "reason": reason}
            version = self._change(tx, actor, lockdown=command)
            assert version is not None
            self._maybe_snapshot(tx, actor)
            return version

    def flush(self, link: Link, timeout: float = ACK_TIMEOUT_S) -> list[int]:
        """Publish every logged message not yet acknowledged, in order; prune after a snapshot.

        One process at a time (a lock file): a message sent twice would look like a replay.
        """
        fd = os.open(self.district.path / "publish.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            sent = []
            for pub in self.state.unpublished():
                link.publish_and_wait(pub.topic, pub.payload, retain=True, timeout=timeout)
                self.state.mark_published(pub.version)
                sent.append(pub.version)
            self._prune(link, timeout)
            return sent
        finally:
            os.close(fd)

    def publish(self, timeout: float = CONNECT_TIMEOUT_S) -> list[int]:
        """Publish every logged message not yet acknowledged, through a short link of its own."""
        link = self.district.link(clean=True)
        link.start()
        try:
            link.wait_connected(timeout)
            return self.flush(link, max(timeout, ACK_TIMEOUT_S))
        finally:
            link.stop()

    def _prune(self, link: Link, timeout: float) -> None:
        """Clear retained changes the newest published snapshot covers."""
        snapshot = self.state.meta_int(cs.SNAPSHOT_VERSION)
        done = self.state.meta_int(cs.PRUNED_THROUGH)
        if snapshot <= done:
            return
        infos = [
            link.publish(topics.change(self.district.name, v), b"", retain=True)
            for v in range(done + 1, snapshot)
        ]
        deadline = time.monotonic() + timeout
        for info in infos:
            info.wait_for_publish(max(0.0, deadline - time.monotonic()))
            if not info.is_published():
                raise LinkError("the broker did not acknowledge the pruning of old changes")
        self.state.set_meta(cs.PRUNED_THROUGH, snapshot)


def publish_now(district: District, stage: Any, *, timeout: float = CONNECT_TIMEOUT_S) -> list[int]:
    """Stage with ``stage(publisher)`` then publish everything pending through a short link."""
    with district.store() as store:
        publisher = Publisher(district, store)
        stage(publisher)
        return publisher.publish(timeout)


__all__ = ["District", "DistrictError", "Publisher", "StoreError", "init_district", "open_district"]
