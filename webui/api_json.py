"""The API's JSON in and out: one reader for request bodies, and every error answered as JSON.

Anything under /api/ but the readable page (/api/docs) is the API: its errors (400, 404, 405, 413,
500, 503) are ``{"error": "..."}``, never an HTML page, a redirect or a traceback.
"""

from __future__ import annotations

import json
import logging
from typing import Any, NoReturn

from flask import Blueprint, Response, current_app, jsonify, redirect, request, url_for
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.wrappers import Response as WerkzeugResponse

from appliance.store import StoreError
from webui.api_docs import PREFIX

LOG = logging.getLogger(__name__)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
DOCS_PAGE = "/api/docs"  # the readable page: HTML for people, not part of the JSON API
NOT_SET_UP = "first-run setup not done"
# The API's bodies are a few fields; the app's MAX_CONTENT_LENGTH (1 MB) answers 413 above it.
bp = Blueprint("api_root", __name__, url_prefix="/api")
Reply = tuple[dict[str, Any], int]


class ApiError(Exception):
    """An answer other than success: its HTTP status and a message for people."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def bad(message: str) -> NoReturn:
    """Refuse the request with 400 and ``message``."""
    raise ApiError(400, message)


def is_api_path(path: str) -> bool:
    """Whether ``path`` belongs to the JSON API (everything under /api/ but the readable page)."""
    return (path == "/api" or path.startswith("/api/")) and path.rstrip("/") != DOCS_PAGE


def not_set_up() -> Response:
    """The API's answer before the first admin account exists: 503, never a redirect to a page."""
    reply = jsonify(
        error="this box is not set up yet: create the first admin account at /setup",
        reason=NOT_SET_UP,
    )
    reply.status_code = 503
    return reply


def _no_constants(name: str) -> NoReturn:
    bad(f"the body is not valid JSON: {name} is not a JSON number")


def json_body() -> object:
    """The request's body as one JSON value; 400 (or 413 if too big) for anything else."""
    if not request.is_json:
        bad("send a JSON object with 'Content-Type: application/json'")
    raw = request.get_data(cache=True)  # over MAX_CONTENT_LENGTH: RequestEntityTooLarge (413)
    if not raw.strip():
        bad("the body is empty: send a JSON object")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad(f"the body is not valid JSON: not UTF-8 (byte {exc.start})")
    try:
        return json.loads(text, parse_constant=_no_constants)
    except RecursionError:
        # Python's parser recurses once per level: 100,000 "[" would otherwise be a 500.
        bad("the body is not valid JSON: it is nested too deeply")
    except ValueError as exc:  # JSONDecodeError, and integers of more than 4,300 digits
        bad(f"the body is not valid JSON: {exc}")


def exempt_from_csrf(blueprint: Blueprint) -> None:
    """Exempt ``blueprint`` from CSRF: it takes only bearer tokens, never the session cookie."""

    @blueprint.record_once
    def _exempt(setup: BlueprintSetupState) -> None:
        csrf = setup.app.extensions.get("csrf")
        if csrf is not None:
            csrf.exempt(blueprint)


def answer_errors_as_json(blueprint: Blueprint) -> None:
    """Every error raised while ``blueprint`` handles a request is answered as JSON."""

    @blueprint.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Any:
        headers = {"WWW-Authenticate": 'Bearer realm="doorward"'} if exc.code == 401 else {}
        return {"error": exc.message}, exc.code, headers

    @blueprint.errorhandler(StoreError)
    def _store_error(exc: StoreError) -> Reply:
        return {"error": str(exc)}, 503

    @blueprint.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        code = exc.code or 500
        stock = exc.description == type(exc).description  # werkzeug's words, not ours
        if code >= 500 and stock:
            message = "the box failed to answer this request; its log has the details"
        elif code == 413 and stock:
            limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
            message = f"the body is larger than {limit // 1024:,} KB: nothing was changed"
        else:
            message = exc.description or exc.name
        headers = dict(exc.get_headers()) if code == 405 else {}
        headers.pop("Content-Type", None)
        return {"error": message}, code, headers


def unknown_path() -> NoReturn:
    """No API endpoint here: a JSON 404, or 405 naming the methods the path takes."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in METHODS:
        try:
            endpoint, _ = adapter.match(method=method)
        except HTTPException:
            continue
        if endpoint not in ("api.unknown", "api_root.unknown"):
            allowed.append(method)
    if allowed:
        raise MethodNotAllowed(
            allowed, f"{request.method} is not allowed here; use {', '.join(allowed)}"
        )
    raise NotFound(
        f"no API endpoint {request.path!r}: see {PREFIX}/openapi.json or the page {DOCS_PAGE}"
    )


exempt_from_csrf(bp)
answer_errors_as_json(bp)


@bp.route("/", methods=METHODS)
def index() -> WerkzeugResponse:
    """/api/ itself: people are sent to the readable page; anything but GET is a JSON 405."""
    if request.method != "GET":
        raise MethodNotAllowed(["GET"], f"{request.method} is not allowed here; use GET")
    return redirect(url_for("api_page.index"))


@bp.route("/<path:rest>", methods=METHODS)
def unknown(rest: str) -> NoReturn:
    """Anything else under /api/ (outside /api/v1 and the readable page): JSON 404 or 405."""
    unknown_path()
