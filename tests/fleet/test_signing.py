"""Envelopes and message schemas, without a broker: what a box accepts, and what it refuses."""

from __future__ import annotations

import base64
import zlib
from pathlib import Path
from typing import Any

import pytest

from appliance.fleet import topics
from appliance.fleet.messages import Change, Snapshot, parse_list
from appliance.fleet.signing import (
    HEADER_LEN,
    MAGIC,
    Rejected,
    canonical_json,
    key_id,
    load_public_key,
    new_private_key,
    open_envelope,
    public_key_text,
    seal,
)

KEY = new_private_key()
PUB = KEY.public_key()
LIMIT = 1 << 20


def change(version: Any = 2, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "change",
        "district": "natrona",
        "version": version,
        "issued_at": 1_700_000_000.5,
        "groups": None,
        "credentials": [
            {
                "format": "H10301",
                "facility": 100,
                "number": 1001,
                "serial": "CPD-1",
                "holder": "Officer Ortiz",
                "agency": "Casper PD",
                "badge": None,
                "group": "responders",
                "status": "revoked",
                "reason": "lost",
                "valid_from_us": None,
                "valid_until_us": None,
                "pin_hash": None,
            }
        ],
        "lockdown": None,
    }
    body.update(over)
    return body


def rejected(payload: bytes, key: Any = PUB, limit: int = LIMIT) -> str:
    with pytest.raises(Rejected) as err:
        open_envelope(payload, key, max_bytes=limit)
    return err.value.reason


def test_round_trip_small_and_compressed() -> None:
    small = seal(KEY, change())
    assert small[HEADER_LEN:] == canonical_json(change())  # small bodies travel as they are
    assert open_envelope(small, PUB, max_bytes=LIMIT).body == change()
    many = change(credentials=[change()["credentials"][0] | {"number": n} for n in range(500)])
    big = seal(KEY, many)
    assert len(big) < len(canonical_json(many)) / 3  # compressed
    assert open_envelope(big, PUB, max_bytes=LIMIT).body == many


def test_key_id_is_the_public_key_fingerprint() -> None:
    payload = seal(KEY, change())
    assert payload[len(MAGIC) + 1 : len(MAGIC) + 33] == key_id(PUB)
    assert key_id(PUB) != key_id(new_private_key().public_key())


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda p: canonical_json(change()), "unsigned"),
        (lambda p: b"", "unsigned"),
        (lambda p: p[:20], "truncated"),
        (lambda p: p[:-5], "bad_signature"),
        (lambda p: p[:-2] + b"9}", "bad_signature"),
        (lambda p: p.replace(b'"revoked"', b'"issued"'), "bad_signature"),
        (lambda p: p[:4] + b"\x01" + p[5:], "bad_signature"),  # the compression flag is signed
        (lambda p: p[:40] + bytes([p[40] ^ 1]) + p[41:], "bad_signature"),  # the signature
    ],
)
def test_tampered_truncated_unsigned(mangle: Any, reason: str) -> None:
    assert rejected(mangle(seal(KEY, change()))) == reason


def test_signed_by_another_key() -> None:
    assert rejected(seal(new_private_key(), change())) == "wrong_key"


def test_another_key_id_with_our_signature_is_wrong_key() -> None:
    other = new_private_key()
    payload = seal(KEY, change())
    swapped = payload[:5] + key_id(other.public_key()) + payload[37:]
    assert rejected(swapped) == "wrong_key"


def test_oversized_before_anything_else() -> None:
    payload = seal(KEY, change())
    assert rejected(payload, limit=len(payload) - 1) == "oversized"
    assert open_envelope(payload, PUB, max_bytes=len(payload)).size == len(payload)


def test_a_signed_bomb_is_refused_before_it_inflates() -> None:
    # Signed by the district key (a compromised console still cannot exhaust a box's memory).
    bomb = zlib.compress(b"[" + b"0," * 3_000_000 + b"0]", 9)
    head = MAGIC + b"\x01" + key_id(PUB)
    payload = head + KEY.sign(head + bomb) + bomb
    assert len(payload) < 100_000
    assert rejected(payload, limit=100_000) == "oversized"


def test_signed_garbage_is_malformed() -> None:
    head = MAGIC + b"\x00" + key_id(PUB)
    for data in (b"not json", b"\xff\xfe"):
        assert rejected(head + KEY.sign(head + data) + data) == "malformed"
    head = MAGIC + b"\x80" + key_id(PUB)
    assert rejected(head + KEY.sign(head + b"{}") + b"{}") == "malformed"


def test_signed_json_nested_past_the_parser_is_malformed() -> None:
    head, data = MAGIC + b"\x00" + key_id(PUB), b"[" * 200_000 + b"]" * 200_000
    assert rejected(head + KEY.sign(head + data) + data) == "malformed"


def parse(body: Any, version: int | None = 2) -> Any:
    return parse_list(body, "natrona", version)


def parse_reason(body: Any, version: int | None = 2) -> str:
    with pytest.raises(Rejected) as err:
        parse(body, version)
    return err.value.reason


def test_schema_accepts_the_real_thing() -> None:
    msg = parse(change())
    assert isinstance(msg, Change) and msg.credentials[0].status == "revoked"
    snap = {
        "type": "snapshot",
        "district": "natrona",
        "version": 7,
        "issued_at": 1.0,
        "groups": [],
        "credentials": change()["credentials"],
        "lockdown": {"all": False, "schools": ["Kelly Walsh"]},
    }
    assert isinstance(parse(snap, None), Snapshot)


@pytest.mark.parametrize(
    "body",
    [
        change(extra=1),
        change(version="2"),
        change(version=0),
        change(credentials=[change()["credentials"][0] | {"status": "vaporised"}]),
        change(credentials=[change()["credentials"][0] | {"number": -1}]),
        change(credentials=[change()["credentials"][0] | {"number": True}]),
        change(credentials=[change()["credentials"][0] | {"colour": "red"}]),
        change(credentials=[{k: v for k, v in change()["credentials"][0].items() if k != "group"}]),
        change(lockdown={"on": "yes", "school": None, "reason": None}),
        change(groups=[{"name": "x"}]),
        [],
        "snapshot",
    ],
)
def test_schema_refuses_anything_else(body: Any) -> None:
    assert parse_reason(body) == "malformed"


def test_district_and_topic_must_match() -> None:
    assert parse_reason(change(district="casper")) == "wrong_district"
    assert parse_reason(change(version=3), 2) == "malformed"  # a change republished elsewhere
    assert parse_reason(change(), None) == "malformed"  # a change on the snapshot topic


def test_topics() -> None:
    assert topics.parse_change("natrona", topics.change("natrona", 42)) == 42
    for bad in ("doorward/natrona/list/change/04", "doorward/natrona/list/change/x", "a/b"):
        assert topics.parse_change("natrona", bad) is None
    assert topics.parse_box("natrona", topics.box("natrona", "kw-1", "events")) == (
        "kw-1",
        "events",
    )
    assert topics.parse_box("natrona", "doorward/natrona/box/+/events") is None
    with pytest.raises(ValueError, match="letters, digits"):
        topics.check_name("a/b", "district")


def test_public_key_forms(tmp_path: Path) -> None:
    text = public_key_text(PUB)
    assert key_id(load_public_key(text)) == key_id(PUB)
    (tmp_path / "district.pub").write_text(text + "\n")
    assert key_id(load_public_key("district.pub", tmp_path)) == key_id(PUB)
    with pytest.raises(ValueError, match="32 bytes"):
        load_public_key(base64.b64encode(b"short").decode())
    with pytest.raises(ValueError, match="nor is it a key file"):
        load_public_key("no-such-file.pub", tmp_path)
