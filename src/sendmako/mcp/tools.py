"""The MCP server and its tools: list sessions, send messages, list chats and read their
messages, list and manage groups, check numbers. Each tool is one client call; an API error
reaches the agent as a tool error carrying the API's code and message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from pathlib import Path
from typing import Any, Literal, ParamSpec

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

from sendmako.client import ApiError, AsyncClient, media_fields
from sendmako.client.models import MessageType

P = ParamSpec("P")

MediaKind = Literal["image", "video", "audio", "document", "sticker"]
Answer = dict[str, Any]

INSTRUCTIONS = (
    "Send and read WhatsApp messages through a Sendmako server. Numbers are international, "
    "in any common spelling (+222 41 85 79 75); groups are JIDs ending in @g.us. Without "
    "session_id, the account's oldest connected WhatsApp session is used."
)


def _plain(answer: BaseModel) -> Answer:
    return answer.model_dump(mode="json")


def _api_errors(tool: Callable[P, Awaitable[Any]]) -> Callable[P, Awaitable[Any]]:
    """The API's refusals as tool errors (the agent reads them and can correct itself)."""

    @wraps(tool)
    async def call(*args: P.args, **kwargs: P.kwargs) -> Any:
        try:
            return await tool(*args, **kwargs)
        except ApiError as exc:
            raise ToolError(f"{exc.code}: {exc.message}") from exc

    return call


class Tools:
    """The tools, acting through one client (and so through its API key only)."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client

    @_api_errors
    async def list_sessions(self) -> list[Answer]:
        """The WhatsApp sessions (linked numbers) of this account, with their status."""
        return [_plain(session) for session in await self.client.list_sessions()]

    @_api_errors
    async def send_message(
        self,
        *,
        to: str,
        text: str | None = None,
        media_kind: MediaKind | None = None,
        media_url: str | None = None,
        media_path: str | None = None,
        caption: str | None = None,
        quoted_message_id: str | None = None,
        session_id: str | None = None,
    ) -> Answer:
        """Send a WhatsApp message to a number or a group. A text needs `text`; a media
        message needs `media_kind` and either `media_url` (fetched by the server) or
        `media_path` (a file on this machine), with an optional `caption`."""
        fields: dict[str, Any] = {"quoted_message_id": quoted_message_id}
        if media_kind is None:
            if text is None:
                raise ToolError("text: give the text to send, or a media_kind with its media")
            kind: MessageType = "text"
            fields["text"] = text
        else:
            kind = media_kind
            if media_path is not None:
                fields.update(media_fields(media_kind, Path(media_path)))
            elif media_url is not None:
                fields[f"{media_kind}Url"] = media_url
            else:
                raise ToolError(f"media_url or media_path: the {media_kind} to send")
            fields["caption"] = caption
        sent = await self.client.send_message(to, kind, session_id=session_id, **fields)
        return _plain(sent)

    @_api_errors
    async def list_chats(
        self, *, limit: int = 20, cursor: str | None = None, session_id: str | None = None
    ) -> Answer:
        """The chats, latest activity first. Pass `next_cursor` back as `cursor` for more."""
        chats = await self.client.list_chats(session_id=session_id, limit=limit, cursor=cursor)
        return _plain(chats)

    @_api_errors
    async def read_messages(
        self,
        *,
        chat: str,
        limit: int = 20,
        cursor: str | None = None,
        session_id: str | None = None,
    ) -> Answer:
        """The messages of one chat (a number or a group JID), newest first."""
        messages = await self.client.chat_messages(
            chat, session_id=session_id, limit=limit, cursor=cursor
        )
        return _plain(messages)

    @_api_errors
    async def check_numbers(self, *, numbers: list[str], session_id: str | None = None) -> Answer:
        """Whether each number (1 to 50) is on WhatsApp, and its JID."""
        return _plain(await self.client.check_numbers(numbers, session_id=session_id))

    @_api_errors
    async def list_groups(self, *, session_id: str | None = None) -> Answer:
        """The groups this account is in, with their participants."""
        return _plain(await self.client.list_groups(session_id=session_id))

    @_api_errors
    async def group_info(self, *, group_id: str, session_id: str | None = None) -> Answer:
        """One group's subject, description, settings and participants."""
        return _plain(await self.client.group_metadata(group_id, session_id=session_id))

    @_api_errors
    async def create_group(
        self, *, name: str, participants: list[str], session_id: str | None = None
    ) -> Answer:
        """Create a group with these numbers in it."""
        group = await self.client.create_group(name, participants, session_id=session_id)
        return _plain(group)

    @_api_errors
    async def manage_participants(
        self,
        *,
        group_id: str,
        action: Literal["add", "remove", "promote", "demote"],
        participants: list[str],
        session_id: str | None = None,
    ) -> Answer:
        """Add or remove numbers from a group, or make them admins (promote) or not
        (demote). Needs this account to be a group admin."""
        if action == "add":
            done = await self.client.add_participants(group_id, participants, session_id=session_id)
        elif action == "remove":
            done = await self.client.remove_participants(
                group_id, participants, session_id=session_id
            )
        else:
            done = await self.client.update_participants(
                group_id, participants, action, session_id=session_id
            )
        return _plain(done)

    @_api_errors
    async def update_group(
        self,
        *,
        group_id: str,
        subject: str | None = None,
        description: str | None = None,
        announce: bool | None = None,
        restrict: bool | None = None,
        session_id: str | None = None,
    ) -> Answer:
        """Change a group's subject, description, or who may write (`announce`: admins
        only) and edit its settings (`restrict`: admins only)."""
        group = await self.client.update_group(
            group_id,
            subject=subject,
            description=description,
            announce=announce,
            restrict=restrict,
            session_id=session_id,
        )
        return _plain(group)

    @_api_errors
    async def group_invite_link(self, *, group_id: str, session_id: str | None = None) -> Answer:
        """The group's invite link (needs admin rights)."""
        return _plain(await self.client.invite_link(group_id, session_id=session_id))

    @_api_errors
    async def leave_group(self, *, group_id: str, session_id: str | None = None) -> str:
        """Leave a group."""
        await self.client.leave_group(group_id, session_id=session_id)
        return f"Left {group_id}."


def build(client: AsyncClient) -> MCPServer:
    """An MCP server whose tools act through `client`."""
    server: MCPServer = MCPServer("sendmako", instructions=INSTRUCTIONS)
    tools = Tools(client)
    for tool in (
        tools.list_sessions,
        tools.send_message,
        tools.list_chats,
        tools.read_messages,
        tools.check_numbers,
        tools.list_groups,
        tools.group_info,
        tools.create_group,
        tools.manage_participants,
        tools.update_group,
        tools.group_invite_link,
        tools.leave_group,
    ):
        server.add_tool(tool)
    return server


async def serve_stdio(url: str, api_key: str) -> None:
    """Run the MCP server on stdin/stdout until the agent closes it."""
    async with AsyncClient(url, api_key) as client:
        await build(client).run_stdio_async()
