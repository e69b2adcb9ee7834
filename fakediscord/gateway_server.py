"""The gateway's server side: the websocket (HELLO, heartbeats, IDENTIFY/READY, RESUME, member
requests) and the test's controls over it (events, disconnects, reconnect requests).

The protocol pieces (connections, sessions, compression) are in :mod:`fakediscord.gateway`,
sharding in :mod:`fakediscord.shards`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from .errors import FakeDiscordError
from .gateway import (
    OP_HEARTBEAT,
    OP_HEARTBEAT_ACK,
    OP_HELLO,
    OP_IDENTIFY,
    OP_INVALID_SESSION,
    OP_PRESENCE,
    OP_RECONNECT,
    OP_REQUEST_MEMBERS,
    OP_RESUME,
    OP_VOICE_STATE,
    GatewayConnection,
    GatewaySession,
)
from .shards import IdentifyRefusal
from .state import APPLICATION_FLAGS, INTENT_GUILD_MEMBERS, FakeState


class GatewayServer(FakeState):
    """The websocket the bot connects to, and the test's gateway controls."""

    async def dispatch_event(self, event: str, data: dict[str, Any]) -> int:
        """Send any gateway DISPATCH event to the bot (on the shard of ``data["guild_id"]``, if any);
        returns its sequence number."""
        await self._drain_pending()
        gid = data.get("guild_id") if isinstance(data, dict) else None
        return await self._require_session(int(gid) if gid else None).dispatch(event, data)

    async def disconnect(
        self,
        code: int = 4000,
        *,
        invalidate: bool = False,
        wait_resume: bool = True,
        timeout: float = 5.0,
        shard: int | None = None,
    ) -> None:
        """Close the bot's websocket from the server side and wait for it to come back.

        With a resumable code (4000 and most 4xxx; discord.py gives up on 1000, 4004, 4010-4014)
        the bot RESUMEs and gets the events it missed. ``invalidate=True`` forgets the session
        first, so the RESUME is answered with INVALID_SESSION and the bot IDENTIFYs again.
        """
        session = self._require_session() if shard is None else self.shards.by_shard[shard]
        conn = session.connection
        resumes, identifies = self.resume_count, self.identify_count
        if invalidate:
            session.invalidated = True
        if conn is not None:
            await conn.close(code=code)
        if wait_resume:
            await self._wait_for(
                lambda: self.resume_count > resumes or self.identify_count > identifies,
                timeout,
                "the bot did not reconnect",
            )

    async def request_reconnect(self, *, timeout: float = 5.0) -> None:
        """Send opcode 7 RECONNECT and wait for the bot to RESUME."""
        session = self._require_session()
        resumes = self.resume_count
        if session.connection is not None:
            await session.connection.send({"op": OP_RECONNECT, "d": None})
        await self._wait_for(lambda: self.resume_count > resumes, timeout, "the bot did not resume")

    async def _wait_for(self, cond: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                raise FakeDiscordError(f"{what} within {timeout}s")
            await asyncio.sleep(0.005)

    # ================================================================ websocket
    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = GatewayConnection(ws, request)
        self.connections.append(conn)
        if conn.query.get("encoding", "json") != "json":
            await conn.close(code=4002, message=b"Error while decoding payload.")
            return ws
        await conn.send(
            {
                "op": OP_HELLO,
                "d": {"heartbeat_interval": self.heartbeat_interval, "_trace": ['["fake-gateway",{}]']},
                "s": None,
                "t": None,
            }
        )
        try:
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    await conn.close(code=4002, message=b"Error while decoding payload.")
                    break
                conn.received.append(data)
                await self._on_op(conn, data)
        finally:
            session = conn.session
            if session is not None and session.connection is conn:
                session.connection = None
        return ws

    async def _on_op(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        op, d = data.get("op"), data.get("d")
        if op == OP_HEARTBEAT:
            conn.heartbeats += 1
            await conn.send({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == OP_IDENTIFY:
            await self._identify(conn, d or {})
        elif op == OP_RESUME:
            await self._resume(conn, d or {})
        elif op == OP_REQUEST_MEMBERS:
            await self._request_members(conn, d or {})
        elif op in (OP_PRESENCE, OP_VOICE_STATE):
            return
        else:
            await conn.close(code=4001, message=b"Unknown opcode.")

    async def _identify(self, conn: GatewayConnection, d: dict[str, Any]) -> None:
        token = d.get("token")
        if conn.session is not None:
            await conn.close(code=4005, message=b"Already authenticated.")
            return
        if not token or (self.token is not None and token != self.token):
            await conn.close(code=4004, message=b"Authentication failed.")
            return
        shard = self.shards.check_identify(d, len(self.guilds))
        if isinstance(shard, IdentifyRefusal):
            await conn.close(code=shard.close_code or 4000, message=shard.message.encode())
            return
        pacing = self.shards.pacing_violation(shard[0])
        if pacing is not None:
            self._violation(pacing)
            await conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        session = GatewaySession(token, d)
        mismatch = self.shards.accept(session, *shard)
        if mismatch is not None:
            self._violation(mismatch)
        self.sessions[session.id] = session
        self.session = session
        session.connection = conn
        conn.session = session
        self.identify_count += 1
        guilds = [g for g in self.guilds.values() if self.shards.owns(session, g.id)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": self._me(),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url,
            "application": {"id": str(self.application_id), "flags": APPLICATION_FLAGS},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["fake"],
            "_trace": ['["fake-gateway",{}]'],
        }
        if d.get("shard") is not None:
            ready["shard"] = d["shard"]
        await session.dispatch("READY", ready)
        members = bool(session.intents & INTENT_GUILD_MEMBERS)
        for g in guilds:
            await session.dispatch("GUILD_CREATE", g.to_gateway(include_members=members, bot_user_id=self.bot_user.id))

    async def _resume(self, conn: GatewayConnection, d: dict[str, Any]) -> None:
        session = self.sessions.get(d.get("session_id") or "")
        if session is None or session.invalidated or d.get("token") != session.token:
            await conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        old = session.connection
        if old is not None and old is not conn and not old.closed:
            session.connection = None
            await old.close(code=4000)
        last = d.get("seq")
        while True:  # replay until caught up, then attach without yielding in between
            missed = [p for p in session.buffer if last is None or p["s"] > last]
            if not missed:
                break
            for p in missed:
                await conn.send(p)
                last = p["s"]
        session.connection = conn
        conn.session = session
        self.session = session
        self.resume_count += 1
        await session.dispatch("RESUMED", {"_trace": ['["fake-gateway",{}]']})

    async def _request_members(self, conn: GatewayConnection, d: dict[str, Any]) -> None:
        session = conn.session
        if session is None:
            return
        guild = self.guilds.get(int(d.get("guild_id") or 0))
        if guild is None:
            return
        members = list(guild.members.values())
        query = d.get("query")
        if d.get("user_ids"):
            ids = {int(u) for u in (d["user_ids"] if isinstance(d["user_ids"], list) else [d["user_ids"]])}
            members = [m for m in members if m.id in ids]
        elif query:
            members = [m for m in members if m.user.name.lower().startswith(query.lower())]
        limit = d.get("limit") or 0
        if limit:
            members = members[:limit]
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": [m.to_dict() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if d.get("nonce") is not None:
            chunk["nonce"] = d["nonce"]
        if d.get("presences"):
            chunk["presences"] = []
        await session.dispatch("GUILD_MEMBERS_CHUNK", chunk)
