"""The fake gateway: websocket sessions, sequence numbers, RESUME replay and transport compression.

discord.py 2.7 connects to ``DEFAULT_GATEWAY`` with ``?v=10&encoding=json&compress=zlib-stream``
(or ``zstd-stream`` when ``zstandard``/``compression.zstd`` is importable). The client accepts
text frames whatever it asked for, but we honour the request: ``zlib-stream`` is one deflate
stream per connection with each message ending in a Z_SYNC_FLUSH marker; ``zstd-stream`` is one
zstd stream per connection flushed per message (falls back to text frames when no zstd
compressor is importable on this side).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import zlib
from collections.abc import Callable
from typing import Any

from aiohttp import WSCloseCode, web

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE = 3
OP_VOICE_STATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

REPLAY_BUFFER = 2000


class _Compressor:
    def __init__(self, kind: str | None) -> None:
        self.kind = None
        self._fn: Callable[[bytes], bytes] | None = None
        if kind == "zlib-stream":
            z = zlib.compressobj()
            self._fn = lambda b: z.compress(b) + z.flush(zlib.Z_SYNC_FLUSH)
            self.kind = kind
        elif kind == "zstd-stream":
            try:
                import zstandard  # type: ignore[import-not-found]

                co = zstandard.ZstdCompressor().compressobj()
                self._fn = lambda b: co.compress(b) + co.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
                self.kind = kind
            except ImportError:
                try:
                    from compression.zstd import ZstdCompressor  # type: ignore[import-not-found]

                    zc = ZstdCompressor()
                    self._fn = lambda b: zc.compress(b, mode=ZstdCompressor.FLUSH_BLOCK)
                    self.kind = kind
                except ImportError:
                    self._fn = None

    def encode(self, text: str) -> bytes | str:
        if self._fn is None:
            return text
        return self._fn(text.encode("utf-8"))


class GatewayConnection:
    """One websocket connection from the bot."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.ws = ws
        self.path = request.path
        self.query = dict(request.query)
        self.compression = self.query.get("compress")
        self._compressor = _Compressor(self.compression)
        self._lock = asyncio.Lock()
        self.session: GatewaySession | None = None
        self.received: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.heartbeats = 0
        self.closed_with: int | None = None  # the close code the fake sent, if it closed the socket

    @property
    def closed(self) -> bool:
        return self.ws.closed

    async def send(self, payload: dict[str, Any]) -> bool:
        async with self._lock:
            if self.ws.closed:
                return False
            data = self._compressor.encode(json.dumps(payload, separators=(",", ":")))
            try:
                if isinstance(data, bytes):
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_str(data)
            except (ConnectionError, RuntimeError):
                return False
            self.sent.append(payload)
            return True

    async def close(self, code: int = WSCloseCode.GOING_AWAY, message: bytes = b"") -> None:
        if self.closed_with is None:
            self.closed_with = int(code)
        await self.ws.close(code=code, message=message)


class GatewaySession:
    """A gateway session (survives reconnects through RESUME)."""

    def __init__(self, token: str, identify: dict[str, Any]) -> None:
        self.id = secrets.token_hex(16)
        self.token = token
        self.identify = identify
        self.intents: int = int(identify.get("intents") or 0)
        self.seq = 0
        self.buffer: list[dict[str, Any]] = []
        self.connection: GatewayConnection | None = None
        self.invalidated = False
        self.shard_id = 0  # from IDENTIFY's ``shard: [id, count]``
        self.shard_count = 1

    async def dispatch(self, event: str, data: dict[str, Any]) -> int:
        self.seq += 1
        payload = {"op": OP_DISPATCH, "t": event, "s": self.seq, "d": data}
        self.buffer.append(payload)
        del self.buffer[:-REPLAY_BUFFER]
        conn = self.connection
        if conn is not None and not conn.closed:
            await conn.send(payload)
        return self.seq

    async def replay(self, conn: GatewayConnection, after: int | None) -> int:
        n = 0
        for payload in list(self.buffer):
            if after is None or payload["s"] > after:
                await conn.send(payload)
                n += 1
        return n
