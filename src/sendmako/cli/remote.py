"""Commands that call a running server over HTTP, with `sendmako.client`: `send`, `bulk`,
`events`, `sessions` and `mcp`.

They read the server's address from `SENDMAKO_URL` (default `http://127.0.0.1:8000`) and
the API key from `SENDMAKO_API_KEY`, and need no database or server settings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from sendmako.cli.progress import Progress
from sendmako.client import ApiError, Client, media_fields
from sendmako.client.files import MEDIA_KINDS
from sendmako.client.models import MessageType

DEFAULT_URL = "http://127.0.0.1:8000"
BULK_LIMIT = 100  # recipients per request (API.md)
EXIT_API_ERROR = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 69  # sysexits' EX_UNAVAILABLE

Handler = Callable[[Client, argparse.Namespace], int]


class UsageError(Exception):
    """The command line or the environment is wrong: said as one line, exit 2."""


def add_commands(commands: Any) -> None:
    """Add the commands to `sendmako`'s subcommands (an argparse subparsers object)."""
    env = " (SENDMAKO_URL, SENDMAKO_API_KEY)"
    send = commands.add_parser("send", help="send one message" + env)
    send.add_argument("to", help="a number in any spelling, or a group JID")
    send.add_argument("text", nargs="?", help="the text of a text message")
    _message_options(send)
    send.add_argument("--json", action="store_true", help="print the API's answer as JSON")
    send.set_defaults(remote=_send)

    bulk = commands.add_parser(
        "bulk", help="send one message to the recipients of a file, with progress" + env
    )
    bulk.add_argument(
        "recipients",
        type=Path,
        help="a file with one number per line (blank lines and # comments skipped; "
        "in a CSV, the first column)",
    )
    bulk.add_argument("text", nargs="?", help="the text of a text message")
    _message_options(bulk)
    bulk.add_argument("--json", action="store_true", help="print every result as a JSON line")
    bulk.set_defaults(remote=_bulk)

    events = commands.add_parser(
        "events", help="follow the event stream, one JSON line per event" + env
    )
    events.add_argument(
        "--event", action="append", dest="events", help="only this event (repeatable)"
    )
    events.add_argument("--session", help="only this session's events")
    events.add_argument("--since", help="resume after this event id (Last-Event-ID)")
    events.add_argument("--count", type=int, help="stop after this many events")
    events.set_defaults(remote=_events)

    sessions = commands.add_parser("sessions", help="list and manage WhatsApp sessions" + env)
    action = sessions.add_subparsers(dest="action")
    sessions.set_defaults(remote=_sessions_list)
    action.add_parser("list", help="list the sessions (the default)").set_defaults(
        remote=_sessions_list
    )
    create = action.add_parser("create", help="start a new session (then scan its QR)")
    create.add_argument("name", nargs="?")
    create.set_defaults(remote=_sessions_create)
    for name, what, handler in (
        ("show", "one session, its QR as a data URL when waiting for a scan", _sessions_show),
        ("restart", "restart a session", _sessions_restart),
        ("delete", "log the number out and delete the session", _sessions_delete),
    ):
        command = action.add_parser(name, help=what)
        command.add_argument("session_id")
        command.set_defaults(remote=handler)
    pair = action.add_parser("pair-code", help="an 8-character linking code for a phone number")
    pair.add_argument("session_id")
    pair.add_argument("phone_number")
    pair.set_defaults(remote=_sessions_pair_code)

    mcp = commands.add_parser("mcp", help="an MCP server on stdio, for AI agents" + env)
    mcp.set_defaults(remote=_mcp)


def run(args: argparse.Namespace) -> int:
    """Run a remote command: API errors and an unreachable server become one line on
    stderr and an exit status, never a traceback."""
    try:
        url, key = _environment()
        if args.command == "mcp":
            return _mcp(url, key)
        handler: Handler = args.remote
        with Client(url, key) as client:
            return handler(client, args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ApiError as exc:
        print(f"error: {exc.message} ({exc.status} {exc.code})", file=sys.stderr)
        return EXIT_API_ERROR
    except httpx.TransportError as exc:
        print(
            f"error: no answer from {os.environ.get('SENDMAKO_URL', DEFAULT_URL)}: {exc}",
            file=sys.stderr,
        )
        return EXIT_UNREACHABLE
    except KeyboardInterrupt:
        return 130


def _environment() -> tuple[str, str]:
    url = os.environ.get("SENDMAKO_URL") or DEFAULT_URL
    key = os.environ.get("SENDMAKO_API_KEY")
    if not key:
        raise UsageError(
            "set SENDMAKO_API_KEY to an API key (wsa_...); `sendmako keys create EMAIL` makes one"
        )
    return url, key


# Messages


def _message_options(parser: argparse.ArgumentParser) -> None:
    media = parser.add_argument_group("media (a file path, or an http(s) URL the server fetches)")
    for kind in MEDIA_KINDS:
        media.add_argument(f"--{kind}", metavar="PATH_OR_URL")
    media.add_argument("--caption")
    media.add_argument("--voice-note", action="store_true", help="audio shown as a voice note")
    media.add_argument("--filename", help="a document's name as the recipient sees it")
    other = parser.add_argument_group("other types")
    other.add_argument("--location", metavar="LAT,LON")
    other.add_argument("--name", help="the location's name")
    other.add_argument("--address", help="the location's address")
    other.add_argument("--contact", metavar="NAME,PHONE", help="a contact card")
    other.add_argument("--poll", metavar="QUESTION")
    other.add_argument("--option", action="append", help="a poll option (repeat: 2 to 12)")
    other.add_argument("--multiple", type=int, help="how many options a voter may choose")
    other.add_argument("--reaction", metavar="EMOJI", help="react to --message-id")
    other.add_argument("--vote", action="append", metavar="OPTION", help="vote on --message-id")
    other.add_argument("--message-id", help="the message reacted to or voted on")
    common = parser.add_argument_group("any type")
    common.add_argument("--reply", metavar="MESSAGE_ID", help="quote this message")
    common.add_argument("--mention", action="append", help="a number mentioned in a group")
    common.add_argument("--session", help="send through this session (default: oldest connected)")


def message(args: argparse.Namespace) -> tuple[MessageType, dict[str, Any]]:
    """The message the options describe: its type and its fields."""
    chosen: list[tuple[MessageType, dict[str, Any]]] = []
    if args.text is not None:
        chosen.append(("text", {"text": args.text}))
    for kind in MEDIA_KINDS:
        source = getattr(args, kind)
        if source is not None:
            chosen.append((kind, _media(kind, source, args)))  # type: ignore[arg-type]
    if args.location is not None:
        chosen.append(("location", _location(args)))
    if args.contact is not None:
        name, _, phone = args.contact.rpartition(",")
        if not name or not phone:
            raise UsageError("--contact: give NAME,PHONE")
        chosen.append(("contact", {"contact": {"name": name, "phone": phone}}))
    if args.poll is not None:
        poll: dict[str, Any] = {"name": args.poll, "options": args.option or []}
        if args.multiple is not None:
            poll["selectable_count"] = args.multiple
        chosen.append(("poll", {"poll": poll}))
    if args.reaction is not None:
        chosen.append(("reaction", {"emoji": args.reaction, "message_id": args.message_id}))
    if args.vote:
        chosen.append(("poll_vote", {"options": args.vote, "message_id": args.message_id}))
    if len(chosen) != 1:
        raise UsageError(
            "say what to send, once: a text, or one of --image --video --audio --document "
            "--sticker --location --contact --poll --reaction --vote"
        )
    kind, fields = chosen[0]
    if kind in {"reaction", "poll_vote"} and not args.message_id:
        raise UsageError(f"--message-id: the message the {kind.replace('_', ' ')} is about")
    fields.update(
        {k: v for k, v in (("quoted_message_id", args.reply), ("mentions", args.mention)) if v}
    )
    return kind, fields


def _media(kind: str, source: str, args: argparse.Namespace) -> dict[str, Any]:
    if source.startswith(("http://", "https://")):
        fields: dict[str, Any] = {f"{kind}Url": source}
    else:
        path = Path(source)
        if not path.is_file():
            raise UsageError(f"--{kind}: no file at {source}")
        fields = media_fields(kind, path)
    if args.caption is not None:
        fields["caption"] = args.caption
    if kind == "audio" and args.voice_note:
        fields["voiceNote"] = True
    if args.filename is not None:
        fields["filename"] = args.filename
    return fields


def _location(args: argparse.Namespace) -> dict[str, Any]:
    try:
        latitude, longitude = (float(part) for part in args.location.split(","))
    except ValueError:
        raise UsageError("--location: give LAT,LON in degrees, as 18.08,-15.97") from None
    fields: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    fields.update({k: v for k, v in (("name", args.name), ("address", args.address)) if v})
    return fields


def _send(client: Client, args: argparse.Namespace) -> int:
    kind, fields = message(args)
    sent = client.send_message(args.to, kind, session_id=args.session, **fields)
    if args.json:
        print(sent.model_dump_json())
    else:
        print(f"Sent {kind} {sent.message_id} to {sent.to} (session {sent.session_id}).")
    return 0


def read_recipients(path: Path) -> list[str]:
    """One recipient per line; in a CSV the first column; blank lines and `#` comments
    skipped; a header line without a digit skipped too."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    recipients = []
    for line in lines:
        first = line.split("#", 1)[0].split(",", 1)[0].split(";", 1)[0].strip()
        if first and any(char.isdigit() for char in first):
            recipients.append(first)
    if not recipients:
        raise UsageError(f"{path} holds no recipient")
    return recipients


def _bulk(client: Client, args: argparse.Namespace) -> int:
    kind, fields = message(args)
    recipients = read_recipients(args.recipients)
    progress = Progress(len(recipients), sys.stderr)
    failed = 0
    for start in range(0, len(recipients), BULK_LIMIT):
        chunk = recipients[start : start + BULK_LIMIT]
        accepted = client.start_bulk(chunk, kind, session_id=args.session, **fields)
        job = None
        for job in client.follow_bulk(accepted.job_id):
            progress.show(
                start + job.summary.sent + job.summary.failed, failed + job.summary.failed
            )
        assert job is not None
        failed += job.summary.failed
        for result in job.results:
            if args.json:
                print(result.model_dump_json())
            elif not result.success:
                print(f"{result.to}: {result.message or result.status}")
    progress.close()
    print(
        f"Sent {len(recipients) - failed} of {len(recipients)}; {failed} failed.", file=sys.stderr
    )
    return 0 if failed == 0 else EXIT_API_ERROR


# Events


def _events(client: Client, args: argparse.Namespace) -> int:
    stream: Iterator[Any] = client.events(
        events=args.events, session_id=args.session, last_event_id=args.since
    )
    for seen, event in enumerate(stream, start=1):
        print(event.model_dump_json(), flush=True)
        if args.count is not None and seen >= args.count:
            break
    return 0


# Sessions


def _sessions_list(client: Client, _args: argparse.Namespace) -> int:
    sessions = client.list_sessions()
    if not sessions:
        print("No session yet: `sendmako sessions create NAME`, then scan its QR.")
        return 0
    print("SESSION\tNAME\tSTATUS\tNUMBER")
    for session in sessions:
        print(
            f"{session.session_id}\t{session.session_name}\t{session.status}\t"
            f"{session.phone_number or '-'}"
        )
    return 0


def _sessions_create(client: Client, args: argparse.Namespace) -> int:
    created = client.create_session(args.name)
    print(
        f"Created {created.session_id} ({created.status}). Scan its QR on the dashboard, or "
        f"`sendmako sessions pair-code {created.session_id} NUMBER`."
    )
    return 0


def _sessions_show(client: Client, args: argparse.Namespace) -> int:
    print(json.dumps(client.get_session(args.session_id).model_dump(mode="json"), indent=2))
    return 0


def _sessions_restart(client: Client, args: argparse.Namespace) -> int:
    state = client.restart_session(args.session_id)
    print(f"Restarted {state.session_id}: {state.status}.")
    return 0


def _sessions_delete(client: Client, args: argparse.Namespace) -> int:
    client.delete_session(args.session_id)
    print(f"Deleted {args.session_id}.")
    return 0


def _sessions_pair_code(client: Client, args: argparse.Namespace) -> int:
    code = client.pair_code(args.session_id, args.phone_number)
    print(f"On the phone: Linked devices > Link with phone number, then enter {code.pair_code}")
    return 0


# MCP


def _mcp(url: str, key: str) -> int:
    from sendmako.mcp.tools import serve_stdio

    asyncio.run(serve_stdio(url, key))
    return 0
