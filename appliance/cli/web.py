"""``doorward web``: the onsite admin page, served by waitress."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from appliance.cli.common import bounded_int, load, open_store, yield_to_the_door

LOG = logging.getLogger(__name__)
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def register(sub: Any) -> None:
    """Add the ``web`` command to the parser."""
    p = sub.add_parser("web", help="the onsite admin page (default http://127.0.0.1:8080)")
    p.add_argument(
        "--host", default=DEFAULT_HOST, help="address to listen on (0.0.0.0 for the LAN)"
    )
    p.add_argument("--port", type=bounded_int(1, 65535), default=DEFAULT_PORT)
    p.set_defaults(handler=cmd_web)


def setup_code_line(code: str | None) -> str | None:
    """What to print about the setup code (None once an admin exists)."""
    if code is None:
        return None
    return (
        f"no admin account yet: open the admin page and enter the one-time setup code {code} "
        "to create the first admin"
    )


def cmd_web(args: argparse.Namespace) -> int:
    import waitress

    from webui import create_app
    from webui.boxfiles import ensure_setup_code

    config = load(args)
    yield_to_the_door()
    store = open_store(config)
    if not store.schema_is_current():
        raise RuntimeError("the database schema is out of date: run 'doorward init' first")
    line = setup_code_line(ensure_setup_code(config.data_dir, store))
    if line:
        print(line, flush=True)
    app = create_app(config, store=store)
    print(f"admin page at http://{args.host}:{args.port}/", flush=True)
    try:
        waitress.serve(app, host=args.host, port=args.port, threads=8, ident="doorward")
    finally:
        store.close()
    return 0
