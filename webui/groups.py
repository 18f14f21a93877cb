"""Access groups: doors, weekly schedules, holidays, and whether a group opens during lockdown."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from appliance.store import DistrictOwned, GroupRow, StoreError
from appliance.store.tables.groups import RESPONDERS
from webui import schedule_form as sf
from webui.auth import ANY_ROLE, actor, require_role
from webui.state import state

bp = Blueprint("groups", __name__, url_prefix="/groups")
Page = str | tuple[str, int] | WerkzeugResponse


def fixed(group: GroupRow) -> bool:
    """Whether the group is the built-in responders group, which nobody may change."""
    return group.builtin and group.name == RESPONDERS


@bp.route("")
@require_role(*ANY_ROLE)
def index() -> str:
    """Every group: doors, when, holidays, lockdown behaviour and PIN, in plain words."""
    return render_template(
        "groups/index.html", groups=state().store.groups.list(), days_text=sf.days_text, fixed=fixed
    )


def _render(group_form: sf.GroupForm, group: GroupRow | None, *, district: bool = False) -> str:
    return render_template(
        "groups/edit.html",
        g_form=group_form,
        form=group_form.form,
        group=group,
        district=district,
        presets=sf.PRESETS,
        custom=sf.CUSTOM,
        max_rows=sf.MAX_ROWS,
    )


def _changed(message: str) -> WerkzeugResponse:
    """After a change: wait for the door to have it, flash ``message`` and what is true, list."""
    applied = state().confirm()
    flash(message + applied.suffix(), applied.level)
    return redirect(url_for("groups.index"))


@bp.route("/add", methods=["GET", "POST"])
@require_role("admin")
def add() -> Page:
    """Create a group with its doors, schedule, holidays and lockdown behaviour."""
    st = state()
    if request.method == "GET":
        return _render(sf.blank(st.config.door.name), None)
    group_form = sf.submitted(request.form)
    if sf.editing_rows(request.form):
        return _render(group_form, None), (200 if group_form.form.ok else 400)
    name = group_form.form.text("name", "Name", max_len=64)
    chosen = sf.settings(group_form)
    if chosen is None or name is None:
        return _render(group_form, None), 400
    try:
        st.store.groups.add(name, **chosen.as_kwargs(), actor=actor())
    except StoreError as exc:
        group_form.form.error("form", f"not added: {exc}")
        return _render(group_form, None), 400
    return _changed(f"Group {name} added.")


def _group(group_id: int) -> GroupRow:
    for group in state().store.groups.list():
        if group.id == group_id:
            return group
    abort(404, description=f"no group with id {group_id}")


@bp.route("/<int:group_id>/edit", methods=["GET", "POST"])
@require_role("admin")
def edit(group_id: int) -> Page:
    """Change a group's doors, schedule, holidays and flags; responders are shown read-only."""
    st = state()
    group = _group(group_id)
    if request.method == "GET":
        owned = not fixed(group) and st.store.fleet.owns(group_id=group.id)
        return _render(sf.from_group(group), group, district=owned)
    if fixed(group):
        group_form = sf.from_group(group)
        try:  # the store holds the rule; let it say why, and change nothing
            st.store.groups.update(group.name, actor=actor())
            group_form.form.error("form", "the built-in responders group cannot be changed")
        except StoreError as exc:
            group_form.form.error("form", str(exc))
        return _render(group_form, group), 400
    group_form = sf.submitted(request.form)
    if sf.editing_rows(request.form):
        return _render(group_form, group), (200 if group_form.form.ok else 400)
    chosen = sf.settings(group_form)
    if chosen is None:
        return _render(group_form, group), 400
    try:
        st.store.groups.update(group.name, **chosen.as_kwargs(), actor=actor())
    except DistrictOwned as exc:
        group_form.form.error("form", f"nothing was changed: {exc}")
        return _render(group_form, group, district=True), 409
    except StoreError as exc:
        group_form.form.error("form", f"nothing was changed: {exc}")
        return _render(group_form, group), 400
    return _changed(f"Group {group.name} saved.")
