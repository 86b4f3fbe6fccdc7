"""The ``selfjourney`` command: the server (serve, keys, credits) and its client (imagine, act,
jobs, mcp). The server's Settings are built here, once; the client commands never build them
(they read only their own few variables, see ``client/config.py``), and import nothing of the
server, so they start fast and work against a remote server.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from selfjourney import __version__
from selfjourney.client import commands as client_commands

if TYPE_CHECKING:
    from selfjourney.config import Settings
    from selfjourney.domain.accounts import Account
    from selfjourney.store import Store

DESCRIPTION = """A self-hosted, Midjourney-compatible image generation API, and its client.

Right after `make serve`, in the same directory: selfjourney imagine "a fox in the snow"
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if hasattr(args, "client"):
        return client_commands.run(args)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    return _run_server_command(args)


def _run_server_command(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from selfjourney.config import Misconfigured, Settings
    from selfjourney.domain.errors import SelfjourneyError
    from selfjourney.store.migrate import SchemaNotCurrent

    try:
        settings = Settings(**_overrides(args))
    except ValidationError as exc:
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "settings"
            print(f"error: invalid setting {name}: {error['msg']}", file=sys.stderr)
        return 2
    try:
        result: int = args.run(settings, args)
    except (SelfjourneyError, Misconfigured, SchemaNotCurrent) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="selfjourney",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"selfjourney {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the API with in-process workers")
    _common(serve)
    serve.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument("--public-url", help="base of image URLs (default http://HOST:PORT)")
    serve.add_argument("--workers", type=int, help="worker threads; 0 pauses rendering")
    serve.add_argument("--engine", choices=("procedural", "diffusers"), help="what renders")
    serve.add_argument("--model", help="diffusers: a hub id or a local pipeline directory")
    serve.add_argument("--device", choices=("auto", "cuda", "mps", "cpu"), help="diffusers")
    serve.add_argument("--upscaler", choices=("realesrgan", "lanczos"), help="upscale action")
    serve.set_defaults(run=_serve)

    worker = commands.add_parser(
        "worker", help="run a render worker of the fleet (SELFJOURNEY_QUEUE=celery)"
    )
    _common(worker)
    worker.add_argument(
        "--concurrency", type=int, default=1, help="renders at once (default 1: one per GPU)"
    )
    worker.add_argument(
        "--models", help="NAME,... : take only these models' jobs (default: every configured model)"
    )
    worker.add_argument(
        "--metrics-port", type=int, help="serve this worker's Prometheus metrics on this port"
    )
    worker.add_argument("--engine", choices=("procedural", "diffusers"), help="what renders")
    worker.add_argument("--model", help="diffusers: a hub id or a local pipeline directory")
    worker.add_argument("--device", choices=("auto", "cuda", "mps", "cpu"), help="diffusers")
    worker.add_argument("--upscaler", choices=("realesrgan", "lanczos"), help="upscale action")
    worker.set_defaults(run=_worker)

    db = commands.add_parser("db", help="the database schema")
    db_commands = db.add_subparsers(title="db commands", required=True)
    upgrade = db_commands.add_parser(
        "upgrade", help="apply the migrations and exit (fleet processes never migrate)"
    )
    _common(upgrade)
    upgrade.set_defaults(run=_db_upgrade)

    keys = commands.add_parser("keys", help="create, list and revoke API keys")
    key_commands = keys.add_subparsers(title="keys commands", required=True)
    create = key_commands.add_parser("create", help="create a key; prints it last")
    _common(create)
    create.add_argument("--name", default="default")
    create.add_argument("--credits", type=int, default=0)
    create.set_defaults(run=_keys_create)
    listing = key_commands.add_parser(
        "list", help="list keys: id, prefix, state, credits, name (never the keys themselves)"
    )
    _common(listing)
    listing.set_defaults(run=_keys_list)
    revoke = key_commands.add_parser("revoke", help="deactivate a key: it then gets 403")
    _common(revoke)
    revoke.add_argument("key", metavar="KEY_OR_ID", help=_KEY_OR_ID)
    revoke.set_defaults(run=_keys_revoke)
    bootstrap = key_commands.add_parser(
        "bootstrap", help="print the development key, creating it with starter credits if needed"
    )
    _common(bootstrap)
    bootstrap.set_defaults(run=_keys_bootstrap)

    credits = commands.add_parser("credits", help="grant credits or show a balance")
    credit_commands = credits.add_subparsers(title="credits commands", required=True)
    add = credit_commands.add_parser("add", help="add N credits (negative to remove)")
    _common(add)
    add.add_argument("key", metavar="KEY_OR_ID", help=_KEY_OR_ID)
    add.add_argument("amount", type=int, metavar="N")
    add.set_defaults(run=_credits_add)
    show = credit_commands.add_parser("show", help="balance and ledger of a key")
    _common(show)
    show.add_argument("key", metavar="KEY_OR_ID", help=_KEY_OR_ID)
    show.set_defaults(run=_credits_show)

    client_commands.add_commands(commands)
    return parser


_KEY_OR_ID = "the key, or its id, prefix or name as `keys list` shows them"


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, help="data directory (default ./data)")
    parser.add_argument("--database-url", help="SQLAlchemy URL (default SQLite in the data dir)")


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    names = (
        *("data_dir", "database_url", "host", "port", "public_url", "workers"),
        *("engine", "model", "device", "upscaler"),
    )
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def _store(settings: Settings) -> Store:
    """The store; on the embedded defaults it is upgraded here, in a fleet by ``db upgrade``."""
    from selfjourney.store import Store

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Store.connect(settings.db_url, upgrade=settings.queue == "local")


def _account(store: Store, key_or_id: str) -> Account:
    """A key by what ``keys list`` shows: its id, its prefix (with or without the ``…``), or
    its name when no other key has that name; or by the key itself."""
    from selfjourney.domain.errors import NotFound, SelfjourneyError

    try:
        return store.accounts.find(key_or_id.removesuffix("…"))
    except NotFound:
        named = [account for account in store.accounts.all() if account.name == key_or_id]
        if len(named) == 1:
            return named[0]
        if named:
            ids = ", ".join(account.id for account in named)
            message = f"{len(named)} API keys are named {key_or_id!r}: give the id ({ids})"
            raise SelfjourneyError(message) from None
        raise


def _configure_logging(settings: Settings) -> None:
    from selfjourney.observe.logs import configure_logging

    configure_logging(settings)


def _serve(settings: Settings, _args: argparse.Namespace) -> int:
    from selfjourney.api.serving import serve
    from selfjourney.config import Misconfigured
    from selfjourney.embedded import build_embedded

    _configure_logging(settings)
    if settings.queue == "celery":
        return _serve_api_only(settings)
    embedded = build_embedded(settings)
    workers = embedded.workers
    try:
        workers.load()
    except (OSError, ValueError, RuntimeError) as exc:  # a model that cannot load
        what = f"model {settings.model!r}" if settings.engine == "diffusers" else "engine"
        raise Misconfigured(f"cannot load the {settings.engine} {what}: {exc}") from exc
    engines = workers.engines
    described = engines.describe() if len(engines.served) > 1 else workers.engine.describe()
    engine = f"{described}, upscaler {workers.upscaler.name}"
    print("\n".join(banner(settings, engine)), flush=True)
    serve(embedded.app(), host=settings.host, port=settings.port, log_level=settings.log_level)
    return 0


def _serve_api_only(settings: Settings) -> int:
    from selfjourney.api.serving import serve
    from selfjourney.fleet import build_api_process

    api = build_api_process(settings)
    print(f"selfjourney API {settings.base_url}  (jobs go to {_redacted(settings)})", flush=True)
    serve(api.app(), host=settings.host, port=settings.port, log_level=settings.log_level)
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from selfjourney.config import Misconfigured
    from selfjourney.fleet import build_worker_process

    if settings.queue != "celery":
        raise Misconfigured(
            "selfjourney worker is the fleet's worker: set SELFJOURNEY_QUEUE=celery and "
            "SELFJOURNEY_BROKER_URL (on the embedded defaults `selfjourney serve` renders)"
        )
    if args.concurrency < 1:
        raise Misconfigured("--concurrency must be 1 or more")
    _configure_logging(settings)
    models = [name.strip() for name in (args.models or "").split(",") if name.strip()]
    process = build_worker_process(settings, models=models, concurrency=args.concurrency)
    print(
        f"selfjourney worker: {process.workers.engine.describe()}, "
        f"{args.concurrency} render slot(s), queues of {', '.join(process.models)}, "
        f"broker {_redacted(settings)}",
        flush=True,
    )
    process.run(metrics_port=args.metrics_port)
    return 0


def _db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    from selfjourney.store import Store

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    Store.connect(settings.db_url, upgrade=True).close()
    print("database schema is current")
    return 0


def _redacted(settings: Settings) -> str:
    """The broker's URL without its password, for a banner."""
    from sqlalchemy.engine import make_url

    url = settings.broker_url or ""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy parses: show only its scheme
        return url.split("://", 1)[0] + "://…"


#: Said at start when the engine is the procedural one: what it draws, and the one command
#: that switches to a real model (sd-turbo: about 5 GB of fp32 weights, 512 px, 1-4 steps).
PROCEDURAL_NOTE = (
    "The procedural engine draws abstract placeholder pictures from the prompt (shapes and "
    "colours, no subjects).",
    "For real pictures, on a machine with internet: "
    "make serve ENGINE=diffusers MODEL=stabilityai/sd-turbo",
    "  (installs torch and downloads the model once, about 5 GB; a GPU renders a grid in "
    "seconds, the CPU works but is slow)",
)


def banner(settings: Settings, engine: str) -> list[str]:
    """What ``serve`` prints before it listens: the engine, what it means, and where to go."""
    url = settings.base_url
    lines = [f"engine {engine}"]
    if all(spec.engine == "procedural" for spec in settings.model_specs().values()):
        lines += PROCEDURAL_NOTE
    lines += [
        f"selfjourney {url}  (API docs: {url}/docs)",
        f"playground {url}/  (paste the key into it; make serve prints one)",
    ]
    return lines


def _keys_create(settings: Settings, args: argparse.Namespace) -> int:
    if args.credits < 0:
        print("error: --credits must be 0 or more", file=sys.stderr)
        return 2
    store = _store(settings)
    account, raw = store.accounts.create(args.name, args.credits)
    print(f"created key {account.id} ({account.name}) with {account.credits} credits")
    print(raw)
    return 0


def _keys_list(settings: Settings, _args: argparse.Namespace) -> int:
    print(f"{'ID':36}  {'KEY':13}  {'STATE':7}  {'CREDITS':>8}  NAME")
    for account in _store(settings).accounts.all():
        state = "active" if account.active else "revoked"
        print(
            f"{account.id}  {account.key_prefix}…  {state:7}  {account.credits:>8}  {account.name}"
        )
    return 0


def _keys_revoke(settings: Settings, args: argparse.Namespace) -> int:
    store = _store(settings)
    account = store.accounts.set_active(_account(store, args.key).id, False)
    print(f"revoked key {account.id} ({account.name})")
    return 0


def _keys_bootstrap(settings: Settings, _args: argparse.Namespace) -> int:
    """For ``make serve``: one development key, kept in the data dir (mode 600)."""
    from selfjourney.client.config import DEV_KEY_FILE
    from selfjourney.domain.errors import SelfjourneyError

    store = _store(settings)
    path = settings.data_dir / DEV_KEY_FILE
    if path.exists():
        raw = path.read_text().strip()
        try:
            account = store.accounts.authenticate(raw)
        except SelfjourneyError:
            account = None
        if account is not None:
            print(f"development key ({account.credits} credits), send it as X-API-Key:")
            print(raw)
            return 0
    account, raw = store.accounts.create("development", settings.starter_credits)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(raw + "\n")
    print(f"created a development key with {account.credits} credits, send it as X-API-Key:")
    print(raw)
    return 0


def _credits_add(settings: Settings, args: argparse.Namespace) -> int:
    store = _store(settings)
    account = _account(store, args.key)
    reason = "grant" if args.amount >= 0 else "adjust"
    balance = store.accounts.add_credits(account.id, args.amount, reason)
    print(f"{account.id} ({account.name}): {balance} credits")
    return 0


def _credits_show(settings: Settings, args: argparse.Namespace) -> int:
    store = _store(settings)
    account = _account(store, args.key)
    print(f"{account.id} ({account.name}): {account.credits} credits")
    for entry in store.accounts.ledger(account.id):
        job = f"  job {entry.job_id}" if entry.job_id else ""
        print(
            f"  {entry.created_at:%Y-%m-%d %H:%M:%S}  {entry.delta:+6}  {entry.reason:7}"
            f"  = {entry.balance_after}{job}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
