"""The simulated reader (mock back-end only): present any card to the door and see its decision."""

from __future__ import annotations

import logging
import random
import time

from flask import Blueprint, abort, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from appliance.control import ControlError
from appliance.store import EventRow, StoreError
from appliance.wiegand.formats import (
    Credential,
    WiegandError,
    credential_from_fields,
    parse_credential,
)
from webui.auth import require_role
from webui.forms import Form
from webui.holders import directory
from webui.state import state

LOG = logging.getLogger(__name__)
bp = Blueprint("reader", __name__, url_prefix="/reader")
Page = str | tuple[str, int] | WerkzeugResponse
FORMATS = ("H10301", "H10306", "H10302", "H10304", "C1K35S", "C1K48S")
SOURCES = ("fields", "fob", "random")
CHOICES = 200  # fobs offered in the pick list, by holder name
WAIT_SECONDS = 3.0  # how long the page waits for the decision to reach the audit log
POLL_SECONDS = 0.05


def _mock_only() -> None:
    if state().config.gpio.backend != "mock":
        abort(404, description="the simulated reader exists only on the mock back-end")


def _page(form: Form, **extra: object) -> str:
    return render_template(
        "reader/index.html",
        form=form,
        formats=FORMATS,
        fobs=directory().cards.choices(limit=CHOICES),
        **extra,
    )


@bp.route("")
@require_role("admin", "operator")
def index() -> Page:
    """The panel: a card by its fields, an enrolled fob, or a random unknown card."""
    _mock_only()
    try:
        state().status()
    except ControlError as exc:
        return _page(
            Form({}),
            offline=f"No controller is running: a card presented now goes nowhere ({exc}).",
        )
    return _page(Form({}))


def _random_unknown() -> Credential:
    """An H10301 card that is not on record (a stranger's card)."""
    store = state().store
    for _ in range(100):
        card = credential_from_fields("H10301", random.randrange(256), random.randrange(65536))
        if store.cards.get(credential=(card.format, card.facility, card.number)) is None:
            return card
    raise StoreError("could not find a card number that is not on record")


def _card(form: Form) -> Credential | None:
    """The card the form asks for, or None with the error recorded."""
    source = form.choice("source", "What to present", SOURCES)
    if source == "random":
        return _random_unknown()
    if source == "fob":
        text = form.text("fob", "Fob", max_len=80)
        if text is None:
            return None
        try:
            return parse_credential(text)
        except WiegandError as exc:
            form.error("fob", str(exc))
            return None
    if source == "fields":
        fmt = form.text("format", "Format", max_len=16)
        facility = form.integer("facility", "Facility", required=False)
        number = form.integer("number", "Card number")
        if fmt is None or number is None:
            return None
        try:
            return credential_from_fields(fmt.upper(), facility, number)
        except WiegandError as exc:
            form.error("format", str(exc))
    return None


def _decision(after: int) -> EventRow | None:
    """The first granted/denied event after ``after``, waiting up to WAIT_SECONDS for it."""
    store = state().store
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = store.events.query(
            after_id=after, kinds=["granted", "denied"], newest_first=False, limit=1
        )
        if found:
            return found[0]
        if time.monotonic() >= deadline:
            return None
        time.sleep(POLL_SECONDS)  # the controller logs the decision just after the strike


@bp.route("", methods=["POST"])
@require_role("admin", "operator")
def present() -> Page:
    """Play the card on the mock reader through the control socket and show what the door did."""
    _mock_only()
    form = Form(request.form)
    card = _card(form)
    if card is None or not form.ok:
        return _page(form), 400
    st = state()
    newest = st.store.events.query(limit=1)
    after = newest[0].id if newest else 0
    try:
        st.control.swipe(card.bits, interval_us=2000, pulse_us=50)
    except ControlError as exc:
        message = f"nothing was presented: no controller answered ({exc})"
        return _page(form, card=card, problem=message), 503
    event = _decision(after)
    if event is None:
        problem = f"no decision was recorded within {WAIT_SECONDS:g} s"
        return _page(form, card=card, problem=problem), 504
    return _page(form, card=card, event=event)
