"""Every event kind and admin action the code records reads as a sentence."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from appliance.core.describe import ACTIONS, by, mode_after, sentence
from appliance.core.event_kinds import KIND_GROUPS, KINDS, kind_label, unknown_kinds

LOCKDOWN, LOOP = "lockdown", "127.0.0.1"
ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    p
    for top in ("appliance", "webui")
    for p in (ROOT / top).rglob("*.py")
    if "migrations" not in p.parts and "cli" not in (p.parts[-2], p.stem)  # argparse's action=
]
_LITERAL = re.compile(r'"([a-z][a-z0-9_]*)"')
_ALTERNATIVE = r'("[a-z_]+"(?:\s+if\s+[^,\n]+?\s+else\s+"[a-z_]+")?)'
KIND_PATTERNS = (
    re.compile(r"(?:_emit|\.record)\(\s*([^,]*),", re.S),  # the first argument: a kind
    re.compile(r"\bkind=" + _ALTERNATIVE),
    re.compile(r'"kind":\s*' + _ALTERNATIVE),
)
ACTION_PATTERNS = (
    re.compile(r"\baction\s*=\s*" + _ALTERNATIVE),
    re.compile(r'"action":\s*' + _ALTERNATIVE),
    re.compile(r'\b_record\(\s*("[a-z_]+")'),
    re.compile(r'_finish\(s, now, done, ("[a-z_]+")\)'),  # store/fleet/apply.py's record
)


def _found(patterns: tuple[re.Pattern[str], ...]) -> set[str]:
    names: set[str] = set()
    for path in SOURCES:
        text = path.read_text()
        for pattern in patterns:
            for match in pattern.finditer(text):
                names.update(_LITERAL.findall(match.group(1)))  # a variable: found elsewhere
    return names


@dataclass(frozen=True)
class Ev:
    kind: str
    reason: str | None = None
    credential: str | None = None
    holder: str | None = None
    serial: str | None = None
    actor: str | None = None
    detail: Mapping[str, Any] | None = None


def jane(
    kind: str, reason: str | None, actor: str | None = None, detail: Mapping[str, Any] | None = None
) -> Ev:
    """An event about Ofc. Jane Smith's fob, CPD-0043 (H10301:100:43)."""
    return Ev(kind, reason, "H10301:100:43", "Ofc. Jane Smith", "CPD-0043", actor, detail)


def test_the_scan_sees_the_kinds_and_actions_it_should() -> None:
    kinds, actions = _found(KIND_PATTERNS), _found(ACTION_PATTERNS)
    # If these go missing the scan is broken, not the code base.
    assert {"granted", "denied", "mode", "alarm", "door_open", "fleet_rejected"} <= kinds
    assert {"add_credential", "set_status", "import_csv", "login", "apply_snapshot"} <= actions


def test_every_kind_recorded_in_the_code_has_a_sentence_and_a_label() -> None:
    missing = _found(KIND_PATTERNS) - set(KINDS)
    assert not missing, f"kinds without a sentence in appliance/core/describe.py: {missing}"
    grouped = {k for _, kinds in KIND_GROUPS for k in kinds}
    assert grouped == set(KINDS), "every kind belongs to exactly one filter group"


def test_every_admin_action_in_the_code_has_its_own_sentence() -> None:
    missing = _found(ACTION_PATTERNS) - ACTIONS
    assert not missing, f"admin actions without a sentence in appliance/core/describe.py: {missing}"


@pytest.mark.parametrize(
    ("event", "text"),
    [
        (
            jane(
                "granted",
                "granted",
                detail={"group": "responders", "mode": "lockdown", "responder": True},
            ),
            "Granted: Ofc. Jane Smith (CPD-0043), responders, during lockdown",
        ),
        (
            jane("denied", "lost"),
            "Denied: fob CPD-0043 (Ofc. Jane Smith) is reported lost",
        ),
        (Ev("denied", "unknown card", "H10301:1:9"), "Denied: unknown card H10301:1:9"),
        (
            Ev("denied", "reader fault", detail={"frame": "parity: 26 bits"}),
            "Denied: the reader sent a garbled read (parity: 26 bits)",
        ),
        (
            Ev("mode", "drill", actor="web:alice", detail={"mode": "lockdown", "was": "normal"}),
            "Lockdown started by alice: drill",
        ),
        (
            Ev("mode", "drill over", actor="web:alice", detail={"mode": "normal", "was": LOCKDOWN}),
            "Lockdown lifted by alice: drill over",
        ),
        (
            Ev("mode", "lockdown button pressed", actor="button", detail={"mode": "lockdown"}),
            "Lockdown started by the lockdown button: lockdown button pressed",
        ),
        (
            Ev("mode", None, actor="fleet:natrona", detail={"mode": "normal", "was": "lockdown"}),
            "Lockdown lifted by the district (natrona)",
        ),
        (
            Ev("mode", "assembly", actor="cli:root", detail={"mode": "held_unlocked"}),
            "Door held unlocked by root on the command line: assembly",
        ),
        (
            jane(
                "admin",
                "reported lost",
                "web:alice",
                {"action": "set_status", "status": "lost", "was": "issued"},
            ),
            "Fob CPD-0043 (Ofc. Jane Smith) reported lost by alice: reported lost",
        ),
        (
            jane(
                "admin",
                None,
                "web:bob",
                {"action": "add_credential", "group": "responders"},
            ),
            "Fob CPD-0043 issued to Ofc. Jane Smith (responders) by bob",
        ),
        (
            jane(
                "admin",
                None,
                "web:bob",
                {
                    "action": "update_credential",
                    "group": {"from": "staff", "to": "responders"},
                    "valid_until_us": {"from": None, "to": 1},
                    "pin": "set",
                },
            ),
            "Fob CPD-0043 (Ofc. Jane Smith) edited by bob: group staff → responders; "
            "valid until changed; PIN set",
        ),
        (
            Ev(
                "admin",
                None,
                "H10301:1:2",
                "Ann Lee",
                None,
                "web:bob",
                {"action": "import_csv", "line": 3, "status": "issued"},
            ),
            "Card H10301:1:2 imported for Ann Lee by bob (line 3)",
        ),
        (
            Ev("admin", "signed in", actor="web:alice", detail={"action": "login", "client": LOOP}),
            "Sign-in by alice from 127.0.0.1",
        ),
        (
            Ev(
                "admin",
                "sign-in locked for this address and account: 5 failures",
                actor="web:admin",
                detail={
                    "action": "login_locked",
                    "target": "admin",
                    "client": LOOP,
                    "seconds": 300,
                },
            ),
            "Sign-in to admin from 127.0.0.1 throttled for 5 min: "
            "sign-in locked for this address and account: 5 failures",
        ),
        (
            Ev(
                "admin",
                actor="web:alice",
                detail={
                    "action": "set_role",
                    "username": "bob",
                    "role": "admin",
                    "was": "operator",
                },
            ),
            "Account bob changed from operator to admin by alice",
        ),
        (
            Ev("alarm_cleared", "held_open cleared: door closed"),
            "Alarm over: door held open (door closed)",
        ),
        (Ev("door_open", "door opened without a grant"), "Door opened without a grant"),
        (
            Ev("schedule", "held unlocked by schedule", detail={"mode": "held_unlocked"}),
            "Door held unlocked by its schedule",
        ),
        (
            Ev("fleet", actor="fleet:natrona", detail={"action": "apply_snapshot", "version": 7}),
            "District list version 7 applied whole: 0 added, 0 updated, 0 removed",
        ),
    ],
)
def test_sentences_for_people(event: Ev, text: str) -> None:
    assert sentence(event) == text


@pytest.mark.parametrize(
    "event",
    [
        Ev("something_new", "why", serial="S-1", actor="web:x"),
        Ev("admin", "r", detail={"action": "brand_new_action"}),
        Ev("admin"),
        Ev(""),
        Ev("mode", detail={"mode": 5}),
        Ev("fleet", detail={"conflicts": "not a list", "version": None}),
        Ev("granted", detail={"group": None, "mode": ["x"]}),
        Ev("denied", "a reason nobody wrote yet", serial="S-2"),
    ],
)
def test_odd_or_unknown_events_still_read_as_a_sentence(event: Ev) -> None:
    text = sentence(event)
    assert text and text[0].isupper() and "None" not in text


def test_unknown_kind_names_itself_and_who() -> None:
    text = sentence(Ev("door_ajar", "sensor says so", serial="S-1", actor="web:x"))
    assert text == "Door ajar (fob S-1) by x: sensor says so"


def test_mode_after_only_for_mode_changes() -> None:
    assert mode_after(Ev("mode", detail={"mode": "lockdown", "was": "normal"})) == "lockdown"
    assert mode_after(Ev("schedule", detail={"mode": "held_unlocked"})) == "held_unlocked"
    assert mode_after(Ev("granted", detail={"mode": "lockdown"})) is None
    assert mode_after(Ev("mode")) is None


def test_actors_for_people() -> None:
    assert by("web:alice") == "alice"
    assert by("demo") == "demo"
    assert by(None) == "someone unknown"


def test_kind_filter_words() -> None:
    assert kind_label("granted") == "Entries granted" and kind_label("door_ajar") == "Door ajar"
    assert unknown_kinds(["granted", "mode"]) is None
    assert unknown_kinds(["door_ajar"], present=["door_ajar"]) is None
    problem = unknown_kinds(["grant", "x"], then="tick the boxes")
    assert problem == "unknown event kinds 'grant' (did you mean 'granted'?), 'x': tick the boxes"
    listed = unknown_kinds(["x"])
    assert listed is not None and listed.endswith(", unlock, unlocked")
    assert "fleet_rejected" in listed
