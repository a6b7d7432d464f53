"""Command line: ``mockvendor serve [--host H] [--port P] [--seed N] [--no-faults]``."""

from __future__ import annotations

import argparse
import logging
import sys

from .settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="mockvendor", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="start the server")
    serve.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 8080)")
    serve.add_argument("--seed", type=int, default=None, help="seed for faults and sampling")
    serve.add_argument("--no-faults", action="store_true", help="turn fault simulation off")
    serve.add_argument("--workers", type=int, default=1,
                       help="worker processes on the one port (state shared as replicas share it: "
                       "set MOCKVENDOR_REDIS_URL; docs/deployment.md)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.command != "serve":
        parser.print_help()
        sys.exit(0 if args.command is None else 2)
    settings = Settings.from_env()
    if args.host is not None:
        settings.host = args.host
    if args.port is not None:
        settings.port = args.port
    if args.seed is not None:
        settings.seed = args.seed
    if args.no_faults:
        settings.faults_enabled = False
    if args.workers > 1:
        serve_workers(settings, args, args.workers)
    else:
        serve_forever(settings)


def serve_workers(settings: Settings, args: argparse.Namespace, workers: int) -> None:
    """uvicorn's supervisor with ``workers`` processes; each builds its app from the
    environment, so the command line's options go there (mockvendor.workers)."""
    import os

    import uvicorn

    from .serving import raise_open_files_limit, uvicorn_options

    for opt, var in (("seed", "MOCKVENDOR_SEED"),):
        if getattr(args, opt) is not None:
            os.environ[var] = str(getattr(args, opt))
    if args.no_faults:
        os.environ["MOCKVENDOR_FAULTS"] = "off"
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    raise_open_files_limit(max(settings.max_connections, settings.max_requests) + 1024)
    options = {**uvicorn_options(settings), "http": "mockvendor.workers:TimedProtocol"}
    uvicorn.run("mockvendor.workers:app", factory=True, host=settings.host, port=settings.port,
                workers=workers, log_level="info", timeout_graceful_shutdown=5, **options)


def serve_forever(settings: Settings) -> None:
    """Run uvicorn on the app built from ``settings``."""
    import uvicorn

    from .app import create_app
    from .serving import install_access_filter, raise_open_files_limit, settle_memory, uvicorn_options

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # httpx logs every upstream call's full URL at INFO: noise, and a URL may hold credentials.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if settings.host not in {"127.0.0.1", "localhost", "::1"} and not settings.admin_token:
        logging.getLogger("mockvendor").warning(
            "listening on %s without MOCKVENDOR_ADMIN_TOKEN: the admin API and request log are open "
            "to anyone who can reach this port; set MOCKVENDOR_ADMIN_TOKEN on shared hosts.",
            settings.host,
        )
    # Each held connection is a file descriptor: room for the connection limit and then some.
    raise_open_files_limit(max(settings.max_connections, settings.max_requests) + 1024)
    app = create_app(settings)
    settle_memory()
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        timeout_graceful_shutdown=5,
        **uvicorn_options(settings),  # timeouts against slow clients, connection limit
    )
    install_access_filter()  # after uvicorn configured its loggers: no key in an access line
    uvicorn.Server(config).run()
