"""The API's readable page: made from the served OpenAPI document, every operation on it."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.config import Config
from appliance.store import Store
from tests.webui.conftest import AuthActions
from tests.webui.test_api import api_store, make_tokens
from webui import api_page
from webui.api_docs import PREFIX


@pytest.fixture
def store(config: Config, initialised_db: Path) -> Iterator[Store]:
    yield from api_store(config, initialised_db)


@pytest.fixture
def doc(app: Flask) -> dict[str, object]:
    make_tokens(app)  # registers the API's blueprints if the factory did not
    found: dict[str, object] = app.test_client().get(PREFIX + "/openapi.json").get_json()
    return found


def _sections(page: str) -> dict[str, str]:
    """Each operation's section of the page by its id."""
    parts = re.split(r'<section class="card api-op" id="', page)[1:]
    return {part.split('"', 1)[0]: html.unescape(part.split("</section>", 1)[0]) for part in parts}


def test_every_operation_of_the_served_document_is_on_the_page(
    client: FlaskClient, doc: dict[str, object]
) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    sections = _sections(page)
    paths = doc["paths"]
    assert isinstance(paths, dict)
    expected = {api_page._anchor(m, p) for p, ops in paths.items() for m in ops}
    assert set(sections) == expected
    for path, ops in paths.items():
        for method, op in ops.items():
            text = sections[api_page._anchor(method, path)]
            assert f"{method.upper()}</span> <code>{PREFIX}{path}</code>" in text
            assert op["summary"] in text
            if op.get("security") == []:
                assert "No token needed" in text
            else:
                assert "Token of role: <strong>" + ", ".join(op["x-roles"]) in text
            for param in op["parameters"]:
                assert f"<code>{param['name']}</code></td><td>{param['in']}</td>" in text
                assert param["description"] in text
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            for name, prop in body.get("schema", {}).get("properties", {}).items():
                assert f"<code>{name}</code></td><td>body</td>" in text
                assert prop["description"] in text
            for code in op["responses"]:
                assert f"<td>{code}</td>" in text


def test_the_page_explains_tokens_errors_and_objects(client: FlaskClient) -> None:
    page = html.unescape(client.get("/api/docs").get_data(as_text=True))
    assert 'href="/api/v1/token"' in page and 'href="/api/v1/openapi.json"' in page
    assert 'curl -H "Authorization: Bearer $TOKEN" http://localhost/api/v1/status' in page
    assert '{"error": "\'reason\' is required"}' in page
    assert "first-run setup not done" in page
    for code in ("400", "401", "403", "404", "409", "413", "503"):
        assert f"<tr><td>{code}</td>" in page
    for name in ("Credential", "Holder", "Event", "Error"):
        assert f'id="schema-{name}"' in page


def test_the_page_has_no_script_and_nothing_from_elsewhere(client: FlaskClient) -> None:
    response = client.get("/api/docs")
    page = response.get_data(as_text=True)
    assert "<script" not in page and " style=" not in page
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_types_are_in_words() -> None:
    assert api_page.type_text({"type": "string", "maxLength": 64}) == (
        "string (at most 64 characters)"
    )
    assert api_page.type_text({"type": "integer", "minimum": 1, "maximum": 500}) == (
        "integer (1 to 500)"
    )
    assert api_page.type_text({"type": "integer", "minimum": 0, "maximum": 2**63 - 1}) == (
        "integer (0 or more)"
    )
    assert api_page.type_text({"type": ["string", "null"], "format": "date-time"}) == (
        "string or null (ISO 8601 with an offset)"
    )
    assert api_page.type_text({"$ref": "#/components/schemas/Credential"}) == "Credential"
    assert api_page.type_text({"type": "string", "enum": ["on", "off"]}) == "one of on, off"


def test_the_token_page_and_every_page_footer_link_to_it(app: Flask, client: FlaskClient) -> None:
    AuthActions(client).login("auditor")
    token_page = client.get("/api/v1/token").get_data(as_text=True)
    assert 'href="/api/docs">the API page</a>' in token_page
    for path in ("/", "/fobs", "/api/v1/token"):
        page = client.get(path).get_data(as_text=True)
        assert re.search(r'<footer[^>]*>.*href="/api/docs"', page, re.S), path
