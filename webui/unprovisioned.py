"""The admin page of a box without a usable config: what is wrong, and how to provision it.

``doorward web --data DIR`` serves it when the config file is missing or cannot be used, so a
technician at the door sees why the box does not work (there is no store, so no sign-in).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, render_template

from appliance.provision.status import read_status
from appliance.release import read_release
from webui.security import add_security_headers

UNAVAILABLE = 503


def create_status_app(data_dir: Path, problem: str | None = None) -> Flask:
    """A one-page app on ``data_dir``'s provisioning status; ``problem``: why there is no config."""
    app = Flask(__name__)
    app.after_request(add_security_headers)
    status = read_status(data_dir)  # written at boot, before this page starts: read once
    app.jinja_env.globals.update(release=read_release(), provisioning=None)

    @app.route("/", defaults={"path": ""})
    @app.route("/<path:path>")
    def not_provisioned(path: str) -> tuple[str, int]:
        html = render_template("unprovisioned.html", status=status, problem=problem)
        return html, UNAVAILABLE

    return app
