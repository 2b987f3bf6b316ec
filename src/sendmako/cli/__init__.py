"""The `sendmako` command: run the server and manage users, keys and plans.

Every command acts on the database the settings name (`SENDMAKO_DATABASE_URL`, or the
SQLite file in `SENDMAKO_DATA_DIR`) and brings its schema up to date first.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from sendmako import accounts, log
from sendmako.cli import gc_tuning
from sendmako.cluster.redis_bus import publish_once
from sendmako.errors import SendmakoError
from sendmako.sessions.lease import NodeRefused
from sendmako.sessions.nodes import Nodes
from sendmako.settings import Settings, load_settings
from sendmako.storage import api_keys, plans, users
from sendmako.storage.db import Database
from sendmako.wiring import credentials_epoch

if TYPE_CHECKING:
    from fastapi import FastAPI

# `serve` beside another live node on its database (sysexits' EX_TEMPFAIL: once that node
# stops, or its lease expires, the same command succeeds).
EXIT_REFUSED = 75


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ValidationError as exc:
        print(f"Invalid settings:\n{_explain(exc)}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(settings, args)
    handler: Callable[[Database, argparse.Namespace], Awaitable[int]] = args.handler
    return asyncio.run(_with_db(settings, handler, args))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sendmako", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API server")
    serve.add_argument("--host", help="overrides SENDMAKO_HOST")
    serve.add_argument("--port", type=int, help="overrides SENDMAKO_PORT")

    user_cmd = commands.add_parser("users", help="manage users").add_subparsers(
        dest="action", required=True
    )
    create = user_cmd.add_parser("create", help="create a user and print its first API key")
    create.add_argument("email")
    create.add_argument("--plan", help="plan name (default: SENDMAKO_DEFAULT_PLAN)")
    create.add_argument("--admin", action="store_true", help="may use the admin dashboard")
    create.set_defaults(handler=_users_create)
    user_cmd.add_parser("list", help="list users").set_defaults(handler=_users_list)
    passwd = user_cmd.add_parser("passwd", help="set a user's dashboard password")
    passwd.add_argument("email")
    passwd.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input instead of prompting",
    )
    passwd.set_defaults(handler=_users_passwd)
    for action, what in (
        ("disable", "stop an account: its API keys, dashboard logins, sends and bulk jobs"),
        ("enable", "let a disabled account in again (its bulk jobs carry on)"),
    ):
        status = user_cmd.add_parser(action, help=what)
        status.add_argument("email")
        status.set_defaults(handler=_users_status, disabled=action == "disable")

    key_cmd = commands.add_parser("keys", help="manage API keys").add_subparsers(
        dest="action", required=True
    )
    key_create = key_cmd.add_parser("create", help="make a new key for a user")
    key_create.add_argument("email")
    key_create.add_argument("--name", help="a label to recognise the key by")
    key_create.set_defaults(handler=_keys_create)
    key_list = key_cmd.add_parser("list", help="list a user's keys")
    key_list.add_argument("email")
    key_list.set_defaults(handler=_keys_list)
    key_revoke = key_cmd.add_parser("revoke", help="revoke a key at once")
    key_revoke.add_argument("prefix", metavar="KEY_PREFIX", help="the key or its first characters")
    key_revoke.set_defaults(handler=_keys_revoke)

    plan_cmd = commands.add_parser("plans", help="manage plans").add_subparsers(
        dest="action", required=True
    )
    plan_cmd.add_parser("list", help="list plans").set_defaults(handler=_plans_list)
    plan_set = plan_cmd.add_parser("set", help="create or change a plan")
    plan_set.add_argument("name")
    plan_set.add_argument("--sessions", type=int, help="session limit (omit: unlimited)")
    plan_set.add_argument("--messages", type=int, help="messages per day (omit: unlimited)")
    plan_set.set_defaults(handler=_plans_set)

    node_cmd = commands.add_parser(
        "nodes", help="the nodes sharing the database (several nodes)"
    ).add_subparsers(dest="action", required=True)
    node_cmd.add_parser("list", help="list the nodes and their sessions").set_defaults(
        handler=_nodes_list
    )
    for action, what, draining in (
        ("drain", "move a node's sessions to the others (for a rolling upgrade)", True),
        ("resume", "let a draining node take sessions again", False),
    ):
        node = node_cmd.add_parser(action, help=what)
        node.add_argument("node_id", help="the node's name, as `sendmako nodes list` shows it")
        node.set_defaults(handler=_nodes_drain, draining=draining)
    return parser


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from sendmako.app import create_app
    from sendmako.cli import serving

    updates = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if updates:
        settings = Settings.model_validate({**settings.model_dump(), **updates})
    log.configure(settings.log_level, settings.log_format)
    print(
        f"Sendmako listening on http://{settings.host}:{settings.port} "
        f"(API docs: {settings.effective_public_url}/docs, data: {settings.data_dir.resolve()})",
        flush=True,
    )
    app = create_app(settings)
    config = serving.config(app, settings)
    try:
        _AnnouncingServer(config, app).run()
    except NodeRefused as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_REFUSED
    return 0


class _AnnouncingServer:
    """uvicorn's server, plus one line on stdout once the socket accepts connections, so
    scripts (and tests) can wait for it instead of polling the port.

    It starts and stops the app itself, where uvicorn would: uvicorn logs a failed start as
    a traceback, and a refusal to start (another node runs on the database) is an answer for
    the operator, which `_serve` prints as one."""

    def __new__(cls, config: Any, app: FastAPI) -> Any:
        import uvicorn

        lifespan = app.router.lifespan_context(app)

        class Server(uvicorn.Server):
            async def startup(self, sockets: Any = None) -> None:
                await lifespan.__aenter__()
                try:
                    await super().startup(sockets)
                except BaseException:
                    # uvicorn gives up (the port is taken): stop the app, as it would have.
                    await lifespan.__aexit__(None, None, None)
                    raise
                if self.started:
                    gc_tuning.tune_for_serving()
                    print(f"Sendmako ready on http://{config.host}:{config.port}", flush=True)

            async def shutdown(self, sockets: Any = None) -> None:
                await super().shutdown(sockets)
                if not self.force_exit:  # a second Ctrl+C: uvicorn skips the app's stop too
                    await lifespan.__aexit__(None, None, None)

        return Server(config)


async def _with_db(
    settings: Settings,
    handler: Callable[[Database, argparse.Namespace], Awaitable[int]],
    args: argparse.Namespace,
) -> int:
    args.settings = settings
    db = Database(settings.effective_database_url)
    try:
        await db.migrate()
        code = await handler(db, args)
    except SendmakoError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    else:
        # Servers cache keys, users and plans; tell them something may have changed: the
        # server of this data directory through the epoch, every node through the bus.
        accounts.CredentialsEpoch(credentials_epoch(settings)).bump()
        if settings.clustered:
            assert settings.redis_url is not None
            await publish_once(
                settings.redis_url.get_secret_value(),
                settings.cluster.redis_prefix,
                accounts.CREDENTIALS_TOPIC,
                {"user_id": None},
            )
        return code
    finally:
        await db.close()


async def _users_create(db: Database, args: argparse.Namespace) -> int:
    async with db.write() as tx:
        user, key = await accounts.create_user(
            tx, args.email, plan=args.plan or args.settings.default_plan, is_admin=args.admin
        )
    print(f"Created user {user.email} (id {user.id}, plan {user.plan.name}).")
    print(f"API key (shown only once): {key.secret}")
    return 0


async def _users_list(db: Database, _args: argparse.Namespace) -> int:
    async with db.read() as session:
        for user in await users.list_all(session):
            flags = " admin" if user.is_admin else ""
            flags += " disabled" if user.disabled else ""
            print(f"{user.id}\t{user.email}\t{user.plan.name}{flags}")
    return 0


async def _nodes_list(db: Database, _args: argparse.Namespace) -> int:
    for node in await Nodes(db).list():
        print(
            f"{node.node_id}\t{node.status}\t{node.url}\t"
            f"last seen {node.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC\t"
            f"{len(node.sessions)} sessions"
        )
    return 0


async def _nodes_drain(db: Database, args: argparse.Namespace) -> int:
    node = await Nodes(db).drain(args.node_id, draining=args.draining)
    if args.draining:
        print(
            f"Node {node.node_id} is draining: its {len(node.sessions)} sessions move to the "
            "other nodes within a few seconds each (`sendmako nodes list` shows them go); "
            "stop it once it holds none."
        )
    else:
        print(f"Node {node.node_id} takes sessions again.")
    return 0


async def _users_passwd(db: Database, args: argparse.Namespace) -> int:
    user_id = await _user_id(db, args.email)
    password = _read_password(from_stdin=args.password_stdin)
    passwords = accounts.Passwords(db)
    try:
        await passwords.set(user_id, password)
    finally:
        passwords.close()
    print(f"Password of {accounts.normalize_email(args.email)} changed.")
    return 0


async def _users_status(db: Database, args: argparse.Namespace) -> int:
    user_id = await _user_id(db, args.email)
    epoch = accounts.CredentialsEpoch(credentials_epoch(args.settings))
    await accounts.set_disabled(db, epoch, user_id, disabled=args.disabled)
    done = "disabled" if args.disabled else "enabled"
    print(f"User {accounts.normalize_email(args.email)} {done}.")
    return 0


def _read_password(*, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        raise SendmakoError("the two passwords differ")
    return first


async def _user_id(db: Database, email: str) -> int:
    async with db.read() as session:
        user = await users.by_email(session, accounts.normalize_email(email))
    if user is None:
        raise SendmakoError(f"no user with the email {email}")
    return user.id


async def _keys_create(db: Database, args: argparse.Namespace) -> int:
    user_id = await _user_id(db, args.email)
    async with db.write() as tx:
        key = await accounts.create_key(tx, user_id, name=args.name)
    print(f"API key (shown only once): {key.secret}")
    return 0


async def _keys_list(db: Database, args: argparse.Namespace) -> int:
    user_id = await _user_id(db, args.email)
    async with db.read() as session:
        keys = await api_keys.list_for_user(session, user_id)
    print("PREFIX\tNAME\tCREATED\tLAST USED\tSTATUS")
    for key in keys:
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
        print(f"{key.prefix}\t{key.name or '-'}\t{key.created_at:%Y-%m-%d %H:%M}\t{used}\t{state}")
    return 0


async def _keys_revoke(db: Database, args: argparse.Namespace) -> int:
    prefix = args.prefix[: accounts.PREFIX_LENGTH]
    async with db.write() as tx:
        matches = [key for key in await api_keys.by_prefix(tx, prefix) if key.revoked_at is None]
        if not matches:
            raise SendmakoError(f"no active key starts with {prefix}")
        if len(matches) > 1:
            raise SendmakoError(f"{len(matches)} keys start with {prefix}: give more characters")
        await accounts.revoke_key(tx, matches[0].user_id, matches[0].id)
    print(f"Revoked {matches[0].prefix}...: it stops working now.")
    return 0


async def _plans_list(db: Database, _args: argparse.Namespace) -> int:
    async with db.read() as session:
        print("PLAN\tSESSIONS\tMESSAGES/DAY")
        for plan in await plans.list_all(session):
            print(
                f"{plan.name}\t{plan.max_sessions or 'unlimited'}\t"
                f"{plan.daily_messages or 'unlimited'}"
            )
    return 0


async def _plans_set(db: Database, args: argparse.Namespace) -> int:
    async with db.write() as tx:
        plan = await plans.upsert(
            tx, args.name, max_sessions=args.sessions, daily_messages=args.messages
        )
    print(f"Plan {plan.name}: sessions {plan.max_sessions}, messages/day {plan.daily_messages}.")
    return 0


def _explain(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        name = "SENDMAKO_" + "__".join(str(part).upper() for part in error["loc"])
        lines.append(f"  {name}: {error['msg']}")
    return "\n".join(lines)
