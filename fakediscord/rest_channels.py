"""REST routes for channels, channel messages and guilds (the bot's own sends and look-ups)."""

from __future__ import annotations

import asyncio
from typing import Any

from . import validate
from .interactions import InvalidInteraction
from .models import THREAD_TYPES, FakeChannel, FakeGuild, Perm
from .rest import SEGMENT as s
from .rest import ApiRequest, Rest, RouteSpec, api_error
from .result import EPHEMERAL, FakeMessage
from .state import INTENT_GUILD_MESSAGES


class ChannelRoutes(Rest):
    def _channel_routes(self) -> list[RouteSpec]:
        channel = "/channels/" + s % "cid"
        message = channel + "/messages/" + s % "mid"
        guild = "/guilds/" + s % "guild"
        return [
            ("GET", channel, self._get_channel, True),
            ("POST", channel + "/messages", self._post_channel_message, True),
            ("GET", message, self._get_channel_message, True),
            ("PATCH", message, self._edit_channel_message, True),
            ("DELETE", message, self._delete_channel_message, True),
            ("GET", guild, self._get_guild, True),
            ("GET", guild + "/channels", self._get_guild_channels, True),
            ("GET", guild + "/roles", self._get_guild_roles, True),
            ("GET", guild + "/members/" + s % "user_id", self._get_guild_member, True),
        ]

    def _channel_for(self, cid: str) -> FakeChannel | None:
        try:
            return self._channel_by_id(int(cid))
        except (InvalidInteraction, ValueError):
            return None

    async def _get_channel(self, ctx: ApiRequest, cid: str) -> tuple[int, Any]:
        ch = self._channel_for(cid)
        return (200, ch.to_dict()) if ch else api_error(404, 10003, "Unknown Channel")

    def _in_left_guild(self, cid: str) -> bool:
        """Whether ``cid`` is a channel of a guild the bot was removed from."""
        return any(str(ch.id) == cid for g in self.left_guilds.values() for ch in g.channels.values())

    async def _post_channel_message(self, ctx: ApiRequest, cid: str) -> tuple[int, Any]:
        ch = self._channel_for(cid)
        if ch is None:
            if self._in_left_guild(cid):
                return api_error(403, 50001, "Missing Access")
            return api_error(404, 10003, "Unknown Channel")
        if ch.guild is not None and self.bot_user.id in ch.guild.members:
            perms = ch.guild.members[self.bot_user.id].permissions_in(ch)
            send = Perm.SEND_MESSAGES_IN_THREADS if ch.type in THREAD_TYPES else Perm.SEND_MESSAGES
            if not perms & Perm.VIEW_CHANNEL:
                return api_error(403, 50001, "Missing Access")
            if not perms & send:
                return api_error(403, 50013, "Missing Permissions")
        issues = self._message_issues(ctx)
        if isinstance(ctx.body, dict) and (ctx.body.get("flags") or 0) & EPHEMERAL:
            issues.append(validate.Issue("message.flags", "flags", "only interaction responses can be ephemeral"))
        rejected = self._check(ctx, issues)
        if rejected:
            return rejected
        msg = self._new_message(None, ch.id, ch.guild.id if ch.guild else None)
        self._apply(msg, ctx.body, ctx.files, create=True)
        data = msg.to_discord()
        session = self.shards.session_for(ch.guild.id if ch.guild else None) or self.session
        if session is not None and (session.intents & INTENT_GUILD_MESSAGES or ch.guild is None):
            self._pending.append(asyncio.get_running_loop().create_task(session.dispatch("MESSAGE_CREATE", data)))
        return 200, data

    def _channel_msg(self, cid: str, mid: str) -> FakeMessage | None:
        msg = self.messages.get(int(mid)) if mid.isdigit() else None
        if msg is None or msg.deleted or str(msg.channel_id) != cid or msg.ephemeral:
            return None
        return msg

    async def _get_channel_message(self, ctx: ApiRequest, cid: str, mid: str) -> tuple[int, Any]:
        msg = self._channel_msg(cid, mid)
        return (200, msg.to_discord()) if msg else api_error(404, 10008, "Unknown Message")

    async def _edit_channel_message(self, ctx: ApiRequest, cid: str, mid: str) -> tuple[int, Any]:
        msg = self._channel_msg(cid, mid)
        if msg is None:
            return api_error(404, 10008, "Unknown Message")
        rejected = self._check(ctx, self._message_issues(ctx, create=False))
        if rejected:
            return rejected
        self._apply(msg, ctx.body, ctx.files, create=False)
        return 200, msg.to_discord()

    async def _delete_channel_message(self, ctx: ApiRequest, cid: str, mid: str) -> tuple[int, Any]:
        msg = self._channel_msg(cid, mid)
        if msg is None:
            return api_error(404, 10008, "Unknown Message")
        msg.deleted = True
        return 204, None

    def _guild_for(self, gid: str) -> FakeGuild | None:
        return self.guilds.get(int(gid)) if gid.isdigit() else None

    async def _get_guild(self, ctx: ApiRequest, guild: str) -> tuple[int, Any]:
        g = self._guild_for(guild)
        if g is None:
            return api_error(404, 10004, "Unknown Guild")
        data = g.to_gateway(include_members=False, bot_user_id=self.bot_user.id)
        for key in ("channels", "members", "threads", "voice_states", "presences", "joined_at", "member_count"):
            data.pop(key, None)
        return 200, data

    async def _get_guild_channels(self, ctx: ApiRequest, guild: str) -> tuple[int, Any]:
        g = self._guild_for(guild)
        return (200, [c.to_dict() for c in g.channels.values()]) if g else api_error(404, 10004, "Unknown Guild")

    async def _get_guild_roles(self, ctx: ApiRequest, guild: str) -> tuple[int, Any]:
        g = self._guild_for(guild)
        return (200, [r.to_dict() for r in g.roles.values()]) if g else api_error(404, 10004, "Unknown Guild")

    async def _get_guild_member(self, ctx: ApiRequest, guild: str, user_id: str) -> tuple[int, Any]:
        g = self._guild_for(guild)
        if g is None:
            return api_error(404, 10004, "Unknown Guild")
        m = g.members.get(int(user_id)) if user_id.isdigit() else None
        return (200, m.to_dict()) if m else api_error(404, 10007, "Unknown Member")
