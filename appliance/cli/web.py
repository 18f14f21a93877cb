"""``doorward web``: the onsite admin page, served by waitress (or, with ``--tls``, gunicorn)."""

from __future__ import annotations

import argparse
import logging
import ssl
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.cli.common import (
    BOX_CONFIG,
    bounded_int,
    examples,
    load,
    open_store,
    yield_to_the_door,
)
from appliance.config import Config, ConfigError
from appliance.store import Store

if TYPE_CHECKING:
    from appliance.box.tls import TlsFiles

LOG = logging.getLogger(__name__)
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def register(sub: Any) -> None:
    """Add the ``web`` command to the parser."""
    p = sub.add_parser(
        "web",
        help="the onsite admin page (default http://127.0.0.1:8080)",
        **examples(
            f"--config {BOX_CONFIG} web    # this computer only",
            f"--config {BOX_CONFIG} web --host 0.0.0.0 --port 443 --tls    # the school's LAN",
        ),
    )
    p.add_argument(
        "--host", default=DEFAULT_HOST, help="address to listen on (0.0.0.0 for the LAN)"
    )
    p.add_argument("--port", type=bounded_int(1, 65535), default=DEFAULT_PORT)
    p.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a self-signed certificate made once and kept in data_dir/tls",
    )
    p.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help="if the config is missing or unusable, serve a page saying why, from this data "
        "directory's provisioning status (the box before it is provisioned)",
    )
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
    from appliance.box.files import ensure_setup_code

    yield_to_the_door()
    try:
        config = load(args)
        store = open_store(config)
    except (ConfigError, RuntimeError) as exc:
        if args.data is None:
            raise
        return _serve_unprovisioned(args, args.data, str(exc))
    try:
        if not store.schema_is_current():
            raise RuntimeError("the database schema is out of date: run 'doorward init' first")
        line = setup_code_line(ensure_setup_code(config.data_dir, store))
        if line:
            print(line, flush=True)
    except BaseException:
        store.close()
        raise
    if args.tls:
        store.close()  # the worker process opens its own: a connection must not cross a fork
        return _serve_tls(config, args.host, args.port)
    return _serve_http(config, store, args.host, args.port)


def _serve_http(config: Config, store: Store, host: str, port: int) -> int:
    import waitress

    from webui import create_app

    app = create_app(config, store=store)
    print(f"admin page at http://{_url_host(host)}:{port}/", flush=True)
    try:
        waitress.serve(app, host=host, port=port, threads=8, ident="doorward")
    finally:
        store.close()
    return 0


def tls_lines(files: TlsFiles) -> list[str]:
    """What to print about the certificate at start: where it is, and how to check it."""
    lines = []
    if files.replaced:
        lines.append(f"the TLS certificate could not be used ({files.replaced}): made a new one")
    elif files.created:
        lines.append(f"made a new self-signed TLS certificate in {files.cert.parent}")
    if files.created:
        lines.append("browsers will warn about it once: compare the fingerprint before trusting it")
    lines.append(f"TLS certificate SHA-256 fingerprint: {files.fingerprint}")
    return lines


def _serve_tls(config: Config, host: str, port: int) -> int:
    from appliance.box.tls import ensure_certificate
    from webui import create_app

    files = ensure_certificate(config.data_dir, extra_addresses=[host])
    for line in tls_lines(files):
        print(line, flush=True)
    print(f"admin page at https://{_url_host(host)}:{port}/", flush=True)
    opened: list[Store] = []

    def load_app() -> Any:
        # In the worker, after the fork: the store's connections belong to this process.
        store = open_store(config)
        opened.append(store)
        return create_app(config, store=store, test_config={"TLS": True})

    def worker_exit(server: Any, worker: Any) -> None:
        for store in opened:
            store.close()

    _gunicorn(load_app, files, host, port, worker_exit).run()
    return 0


def _serve_unprovisioned(args: argparse.Namespace, data_dir: Path, problem: str) -> int:
    """The page that says why the box is not working, until it is provisioned."""
    from webui.unprovisioned import create_status_app

    print(f"doorward: no usable config ({problem}): serving the provisioning status", flush=True)
    app = create_status_app(data_dir, problem)
    if not args.tls:
        import waitress

        print(f"status page at http://{_url_host(args.host)}:{args.port}/", flush=True)
        waitress.serve(app, host=args.host, port=args.port, threads=2, ident="doorward")
        return 0
    from appliance.box.tls import ensure_certificate

    try:
        files = ensure_certificate(data_dir, extra_addresses=[args.host])
    except OSError:  # the data partition is not ours yet: a certificate for this run only
        files = ensure_certificate(Path(tempfile.mkdtemp()), extra_addresses=[args.host])
    print(f"status page at https://{_url_host(args.host)}:{args.port}/", flush=True)
    _gunicorn(lambda: app, files, args.host, args.port).run()
    return 0


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _gunicorn(
    load_app: Callable[[], Any],
    files: TlsFiles,
    host: str,
    port: int,
    worker_exit: Callable[[Any, Any], None] | None = None,
) -> Any:
    """gunicorn serving an app over TLS: one worker process, eight threads."""
    from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

    def ssl_context(conf: Any, default_factory: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        context = default_factory()
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    options: dict[str, Any] = {
        "bind": [f"{_url_host(host)}:{port}"],
        # One worker: the login rate limiter and the setup state live in its memory.
        "workers": 1,
        "threads": 8,
        "worker_class": "gthread",
        "certfile": str(files.cert),
        "keyfile": str(files.key),
        "ssl_context": ssl_context,
        "proc_name": "doorward-web",
        "graceful_timeout": 10,
    }
    if worker_exit is not None:
        options["worker_exit"] = worker_exit

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return load_app()

    return Server()
