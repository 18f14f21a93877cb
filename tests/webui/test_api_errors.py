"""The JSON API answers JSON to anything: malformed bodies, unknown paths, crashes, before setup."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.config import Config
from appliance.store import Store
from tests.webui.conftest import StepClock, add_user, make_app
from tests.webui.test_api import (
    api_store,
    bearer,
    give_token,
    make_tokens,
    state,
    with_api,
)
from webui.api_docs import PREFIX, document
from webui.api_json import NOT_SET_UP


def _operations(*, with_body: bool) -> list[tuple[str, str]]:
    """(method, path with a real serial) for the document's operations."""
    return [
        (method.upper(), PREFIX + path.replace("{serial}", "KW-1"))
        for path, ops in document()["paths"].items()
        for method, op in ops.items()
        if not with_body or "requestBody" in op
    ]


BODY_ROUTES = _operations(with_body=True)
ALL_ROUTES = _operations(with_body=False)
JSON = "application/json"
MALFORMED = [
    ("deep-array", b"[" * 100_000, JSON, 400, "nested too deeply"),
    ("deep-object", b'{"a":' * 100_000, JSON, 400, "nested too deeply"),
    ("deep-but-closed", b"[" * 5_000 + b"]" * 5_000, JSON, 400, "nested too deeply"),
    ("not-utf8", b'{"reason": "\xff\xfe"}', JSON, 400, "not UTF-8"),
    ("latin1-declared", b'{"reason": "Jos\xe9"}', JSON + "; charset=latin-1", 400, "not UTF-8"),
    ("bom", b'\xef\xbb\xbf{"reason": "x"}', JSON, 400, "not valid JSON"),
    ("array", b"[1, 2]", JSON, 400, "must be a JSON object"),
    ("number", b"42", JSON, 400, "must be a JSON object"),
    ("null", b"null", JSON, 400, "must be a JSON object"),
    ("string", b'"on"', JSON, 400, "must be a JSON object"),
    ("empty", b"", JSON, 400, "the body is empty"),
    ("blank", b"  \n", JSON, 400, "the body is empty"),
    ("truncated", b'{"reason": "x"', JSON, 400, "not valid JSON"),
    ("nan", b'{"reason": NaN}', JSON, 400, "NaN is not a JSON number"),
    ("infinity", b'{"number": -Infinity}', JSON, 400, "-Infinity is not a JSON number"),
    ("huge-number", b'{"number": 1' + b"0" * 5_000 + b"}", JSON, 400, "not valid JSON"),
    ("text-plain", b"{}", "text/plain", 400, "Content-Type: application/json"),
    ("form", b"state=on&reason=x", "application/x-www-form-urlencoded", 400, "Content-Type"),
    ("no-type", b"{}", None, 400, "Content-Type: application/json"),
    ("too-big", b'{"reason": "' + b"x" * (2 * 1024 * 1024) + b'"}', JSON, 413, "larger than"),
]


@pytest.fixture
def store(config: Config, initialised_db: Path) -> Iterator[Store]:
    yield from api_store(config, initialised_db)


@pytest.fixture
def tokens(app: Flask) -> dict[str, str | None]:
    return make_tokens(app)


def test_every_body_route_of_the_document_is_covered() -> None:
    assert {path for _, path in BODY_ROUTES} == {
        f"{PREFIX}/credentials",
        f"{PREFIX}/credentials/KW-1/status",
        f"{PREFIX}/holders",
        f"{PREFIX}/lockdown",
        f"{PREFIX}/unlock",
    }


@pytest.mark.parametrize(
    ("body", "content_type", "code", "needle"),
    [m[1:] for m in MALFORMED],
    ids=[m[0] for m in MALFORMED],
)
@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_a_malformed_body_is_a_json_error_that_changes_nothing(
    app: Flask,
    store: Store,
    tokens: dict[str, str | None],
    method: str,
    path: str,
    body: bytes,
    content_type: str | None,
    code: int,
    needle: str,
) -> None:
    before = state(store)
    headers = bearer(tokens["admin"])
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = app.test_client().open(path, method=method, data=body, headers=headers)
    assert response.status_code == code, response.get_data(as_text=True)[:300]
    assert response.is_json and needle in response.get_json()["error"]
    assert "Traceback" not in response.get_data(as_text=True)
    assert state(store) == before


def test_a_nested_but_small_body_is_refused_by_its_fields(
    app: Flask, tokens: dict[str, str | None]
) -> None:
    body = b'{"state": "on", "reason": ' + b"[" * 50 + b"]" * 50 + b"}"
    response = app.test_client().post(
        PREFIX + "/lockdown", data=body, headers={**bearer(tokens["admin"]), "Content-Type": JSON}
    )
    assert response.status_code == 400
    assert "'reason' must be a string" in response.get_json()["error"]


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [
        ("GET", "/api/nothing", 404),
        ("GET", "/api/v1/nothing/here", 404),
        ("GET", "/api/v2/status", 404),
        ("POST", "/api/anything", 404),
        ("DELETE", "/api/v1/credentials", 405),
        ("PUT", "/api/v1/lockdown", 405),
        ("PATCH", "/api/v1/openapi.json", 405),
        ("POST", "/api/", 405),
        ("TRACE", "/api/v1/status", 405),  # refused by routing, before any blueprint
        ("PROPFIND", "/api/v1/credentials", 405),
    ],
)
def test_unknown_paths_and_methods_under_api_answer_json(
    client: FlaskClient, tokens: dict[str, str | None], method: str, path: str, code: int
) -> None:
    response = client.open(path, method=method, headers=bearer(tokens["admin"]))
    assert response.status_code == code and response.is_json
    error = response.get_json()["error"]
    assert error and "<" not in error
    if code == 405:
        assert response.headers["Allow"]


def test_api_root_sends_people_to_the_readable_page(client: FlaskClient) -> None:
    response = client.get("/api/")
    assert response.status_code == 302 and response.headers["Location"] == "/api/docs"


def test_a_crash_in_an_api_view_is_a_json_500_without_a_traceback(
    config: Config, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = with_api(make_app(config, store, StepClock(), PROPAGATE_EXCEPTIONS=False))
    add_user(app, "admin", "admin", first=True)
    token = give_token(app, "admin")

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(type(store.cards), "list", explode)
    response = app.test_client().get(PREFIX + "/credentials", headers=bearer(token))
    assert response.status_code == 500 and response.is_json
    text = response.get_data(as_text=True)
    assert "its log has the details" in response.get_json()["error"]
    assert "secret internals" not in text and "Traceback" not in text


# -- before first-run setup -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        *ALL_ROUTES,
        ("GET", PREFIX + "/token"),
        ("POST", PREFIX + "/token"),
        ("GET", PREFIX + "/nothing"),
        ("DELETE", PREFIX + "/credentials"),
        ("GET", "/api/other"),
    ],
)
def test_before_setup_every_api_path_answers_json_503(
    fresh_app: Flask, store: Store, method: str, path: str
) -> None:
    before = state(store)
    response = fresh_app.test_client().open(
        path, method=method, json={"state": "on", "reason": "x"}
    )
    assert response.status_code == 503 and response.is_json
    assert "Location" not in response.headers
    body = response.get_json()
    assert body["reason"] == NOT_SET_UP and "/setup" in body["error"]
    assert state(store) == before


def test_before_setup_pages_still_go_to_setup(fresh_app: Flask) -> None:
    client = fresh_app.test_client()
    for path in ("/", "/fobs", "/api/docs"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/setup")


def test_a_chunked_body_over_the_limit_is_a_json_413_from_a_real_server(
    config: Config, store: Store
) -> None:
    import waitress
    from waitress import wasyncore

    app = with_api(make_app(config, store, StepClock(), TESTING=False))
    add_user(app, "admin", "admin", first=True)
    token = give_token(app, "admin")
    server = waitress.create_server(app, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    before = state(store)

    def chunks() -> Iterator[bytes]:
        yield b'{"reason": "'
        for _ in range(200):  # 1.6 MB without a Content-Length: only the stream can tell
            yield b"x" * 8192
        yield b'"}'

    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.effective_port, timeout=30)
        headers = {**bearer(token), "Content-Type": JSON}
        conn.request(
            "POST", PREFIX + "/unlock", body=chunks(), headers=headers, encode_chunked=True
        )
        response = conn.getresponse()
        body = json.loads(response.read())
        conn.close()
    finally:
        # Closed from the server's own loop thread: closing under its select() is EBADF there.
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        thread.join(10)
        server.task_dispatcher.shutdown()
    assert response.status == 413 and response.getheader("Content-Type") == JSON
    assert "larger than 1,024 KB" in body["error"] and state(store) == before
