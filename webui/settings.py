"""Door settings: the few an admin may change here, the installer's read-only ones, the pin map.

The controller reads the stored settings on its next refresh and checks them again before the
door uses them; the config file's values apply to any setting not changed here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from appliance.config import Config
from appliance.core.settings import (
    EDITABLE_SETTINGS,
    REX_MODES,
    SECONDS_LIMITS,
    SettingError,
    check_setting,
)
from appliance.firmware import gpio_lines, power_on_problems
from appliance.store import EventRow, StoreError
from appliance.wiring import pin_table, wiring_notes, wiring_svg
from webui import localtime
from webui.auth import ANY_ROLE, actor, current_user, require_role
from webui.forms import Form
from webui.state import state

bp = Blueprint("settings", __name__, url_prefix="/settings")
Page = str | tuple[str, int] | WerkzeugResponse
LABELS = {
    "unlock_seconds": "Unlock time (seconds)",
    "held_open_seconds": "Held-open alarm after (seconds)",
    "rex_mode": "Request to exit (REX)",
}
REX_LABELS = {"unlock": "unlocks the door", "shunt": "only shunts the forced-open alarm"}
# A number of seconds as typed: digits with at most three decimals (no exponent, nan or inf).
SECONDS_RE = re.compile(r"[0-9]{1,6}(\.[0-9]{1,3})?")
HISTORY = 500  # admin events searched for who changed a setting last


@dataclass(frozen=True, slots=True)
class SettingView:
    """One editable setting as the page shows it: value in force, and where it comes from."""

    key: str
    label: str
    value: str
    default: str
    changed: bool
    by: str | None
    at: str | None
    problem: str | None


def config_values(config: Config) -> dict[str, float | str]:
    """The config file's values of the editable settings (the defaults)."""
    rex = "unlock" if config.rex is None else config.rex.mode
    return {
        "unlock_seconds": config.door.unlock_seconds,
        "held_open_seconds": config.door.held_open_seconds,
        "rex_mode": rex,
    }


def _shown(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _last_changes() -> dict[str, EventRow]:
    """The newest set_setting event for each key among the recent admin events."""
    found: dict[str, EventRow] = {}
    for event in state().store.events.query(kinds=["admin"], limit=HISTORY):
        detail = event.detail or {}
        key = detail.get("key")
        if detail.get("action") == "set_setting" and isinstance(key, str) and key not in found:
            found[key] = event
    return found


def setting_views() -> list[SettingView]:
    """Every editable setting with its value in force and its source."""
    st = state()
    defaults = config_values(st.config)
    stored = st.store.door.settings()
    history = _last_changes()
    views = []
    for key in EDITABLE_SETTINGS:
        raw = stored.get(key)
        problem = None
        value: Any = defaults[key]
        if raw is not None:
            try:
                value = check_setting(key, raw)
            except SettingError as exc:
                problem = f"the stored value is unusable: the door ignores it ({exc})"
        event = history.get(key)
        changed = raw is not None and problem is None
        views.append(
            SettingView(
                key=key,
                label=LABELS[key],
                value=_shown(value),
                default=_shown(defaults[key]),
                changed=changed,
                by=event.actor if event is not None else None,
                at=localtime.show(event.ts) if event is not None else None,
                problem=problem,
            )
        )
    return views


def _page(form: Form, code: int = 200) -> tuple[str, int]:
    st = state()
    user = current_user()
    html = render_template(
        "settings/index.html",
        form=form,
        settings=setting_views(),
        installer=_installer_view(st.config),
        pins=pin_table(st.config.pins()),
        notes=wiring_notes(st.config),
        firmware=gpio_lines(st.config),
        power_on=power_on_problems(st.config),
        limits=SECONDS_LIMITS,
        rex_modes=REX_MODES,
        rex_labels=REX_LABELS,
        can_edit=user is not None and user.role == "admin",
    )
    return html, code


def _installer_view(config: Config) -> list[tuple[str, str]]:
    reader = config.reader
    formats = ", ".join(reader.formats) if reader.formats else "every known format"
    lock = {"fail_secure": "fail-secure strike", "fail_safe": "fail-safe maglock"}
    return [
        ("Lock type", lock[config.door.lock_type]),
        ("Strike relay input", "active low" if config.strike.active_low else "active high"),
        ("Reader formats", formats),
        ("Reader keypad", reader.keypad),
        ("GPIO back-end", config.gpio.backend),
        ("Outputs back-end", config.outputs_backend),
    ]


@bp.route("")
@require_role(*ANY_ROLE)
def index() -> Page:
    """The door's settings, where each comes from, and the pin map with its wiring diagram."""
    return _page(Form({}))


@bp.route("", methods=["POST"])
@require_role("admin")
def change() -> Page:
    """Change one setting (or set it back to the config file's value); the door follows."""
    form = Form(request.form)
    key = form.choice("key", "Setting", EDITABLE_SETTINGS)
    if key is None:
        return _page(form, 400)
    value: float | str | None
    if request.form.get("reset"):
        value = None
    else:
        value = _read_value(form, key)
        if value is None:
            return _page(form, 400)
    st = state()
    current = st.store.door.settings().get(key)
    if value == current:
        flash(f"{LABELS[key]} is unchanged: it already was that.", "ok")
        return redirect(url_for("settings.index"))
    try:
        st.store.door.set_setting(key, value, actor=actor())
    except StoreError as exc:
        form.error("value", f"nothing was changed: {exc}")
        return _page(form, 400)
    applied = st.confirm()
    shown = config_values(st.config)[key] if value is None else value
    note = applied.note("the door uses it now")
    flash(f"{LABELS[key]} is now {_shown(shown)}: {note}.", applied.level)
    return redirect(url_for("settings.index"))


def _read_value(form: Form, key: str) -> float | str | None:
    """The submitted value for ``key``, checked like the controller checks it."""
    if key == "rex_mode":
        return form.choice("value", LABELS[key], REX_MODES)
    text = form.text("value", LABELS[key], max_len=12)
    if text is None:
        return None
    if not SECONDS_RE.fullmatch(text):
        form.error("value", f"{LABELS[key]} must be a number of seconds, e.g. 5 or 2.5")
        return None
    try:
        return check_setting(key, float(text))
    except SettingError as exc:
        form.error("value", str(exc))
        return None


@bp.route("/wiring.svg")
@require_role(*ANY_ROLE)
def wiring() -> Response:
    """The wiring diagram, drawn from the config's pin map."""
    svg = wiring_svg(state().config)
    # no script in it, and the app's CSP (default-src 'self') goes on this response too
    return Response(svg, mimetype="image/svg+xml")
