"""Building the world a test plays in: guilds, channels, threads, roles, users, members, files.

Whatever is added while the bot is connected is announced to it (GUILD_CREATE, CHANNEL_CREATE, ...).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from typing import Any

from .gateway import GatewaySession
from .models import (
    DM,
    EVERYONE_DEFAULT,
    GUILD_CATEGORY,
    GUILD_TEXT,
    PUBLIC_THREAD,
    THREAD_TYPES,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    Perm,
    snowflake,
)
from .state import INTENT_GUILD_MEMBERS, FakeState


class World(FakeState):
    """Adding guilds, channels, roles, users, members and attachments."""

    def add_guild(
        self,
        name: str = "Test Guild",
        *,
        channels: Iterable[str] | dict[str, dict[str, Any]] = ("general",),
        roles: dict[str, int] | None = None,
        locale: str = "en-US",
        owner: FakeUser | None = None,
        premium_tier: int = 0,
        id: int | None = None,
    ) -> FakeGuild:
        """Create a guild the bot is in, with text channels, an @everyone role and the bot's member.

        ``channels`` is a list of names or ``{name: {"type": 0, "topic": ..., "nsfw": ...}}``;
        ``roles`` maps extra role names to permission bits. Call before the bot connects, or
        afterwards (a GUILD_CREATE is then dispatched).
        """
        guild = FakeGuild(name=name, id=id or snowflake(), locale=locale, premium_tier=premium_tier)
        guild.roles["@everyone"] = FakeRole(guild, "@everyone", EVERYONE_DEFAULT, id=guild.id, position=0)
        owner = owner or self.owner
        self.users.setdefault(owner.id, owner)
        guild.owner_id = owner.id
        guild.members[owner.id] = FakeMember(guild, owner, is_owner=True)
        bot_role = FakeRole(guild, self.bot_user.name, self.bot_permissions, managed=True, bot_id=self.bot_user.id)
        guild.roles[bot_role.name] = bot_role
        guild.members[self.bot_user.id] = FakeMember(guild, self.bot_user, roles=[bot_role])
        for i, (rname, perms) in enumerate((roles or {}).items(), start=2):
            guild.roles[rname] = FakeRole(guild, rname, perms, position=i)
        specs = channels if isinstance(channels, dict) else {c: {} for c in channels}
        for i, (cname, spec) in enumerate(specs.items()):
            ch = FakeChannel(cname, guild, position=i, **spec)
            guild.channels[cname] = ch
        self.guilds[guild.id] = guild
        self._guild_create(guild)
        return guild

    def _guild_create(self, guild: FakeGuild) -> None:
        self._gateway_event(
            "GUILD_CREATE",
            lambda s: guild.to_gateway(
                include_members=bool(s.intents & INTENT_GUILD_MEMBERS), bot_user_id=self.bot_user.id
            ),
            guild,
        )

    def remove_bot(self, guild: FakeGuild) -> None:
        """The bot is removed from ``guild`` (kicked, or its app removed by an admin): a
        GUILD_DELETE without ``unavailable`` is dispatched (discord.py's ``on_guild_remove``), and
        from then on the guild is not the bot's: READY no longer lists it, and its channels refuse
        the bot's messages as Discord does (403, 50001 Missing Access). :meth:`invite_bot` undoes it."""
        self._gateway_event("GUILD_DELETE", lambda s: {"id": str(guild.id)}, guild)
        self.guilds.pop(guild.id, None)
        self.left_guilds[guild.id] = guild

    def invite_bot(self, guild: FakeGuild) -> None:
        """An admin adds the bot to ``guild`` again after :meth:`remove_bot` (GUILD_CREATE follows)."""
        self.left_guilds.pop(guild.id, None)
        self.guilds[guild.id] = guild
        self._guild_create(guild)

    def add_channel(
        self, guild: FakeGuild, name: str, *, type: int = GUILD_TEXT, parent: FakeChannel | None = None, **kw: Any
    ) -> FakeChannel:
        ch = FakeChannel(name, guild, type=type, parent=parent, position=len(guild.channels), **kw)
        guild.channels[name] = ch
        self._gateway_event(
            "THREAD_CREATE" if type in THREAD_TYPES else "CHANNEL_CREATE", lambda s: ch.to_dict(), guild
        )
        return ch

    def add_thread(self, guild: FakeGuild, name: str, parent: FakeChannel) -> FakeChannel:
        """A public thread in a text channel, or a post in a forum channel."""
        return self.add_channel(guild, name, type=PUBLIC_THREAD, parent=parent)

    def set_overwrite(
        self, channel: FakeChannel, target: FakeMember | FakeRole, *, allow: int = 0, deny: int = 0
    ) -> None:
        """Give ``channel`` a permission overwrite for a role or a member (CHANNEL_UPDATE follows);
        the fake then refuses the bot's messages there as Discord would (50001 / 50013)."""
        kind = 1 if isinstance(target, FakeMember) else 0
        channel.overwrites[target.id] = (kind, allow, deny)
        guild = channel.guild
        assert guild is not None
        self._gateway_event("CHANNEL_UPDATE", lambda s: channel.to_dict(), guild)

    def add_category(self, guild: FakeGuild, name: str) -> FakeChannel:
        return self.add_channel(guild, name, type=GUILD_CATEGORY)

    def add_role(self, guild: FakeGuild, name: str, permissions: int = 0) -> FakeRole:
        role = FakeRole(guild, name, permissions, position=len(guild.roles))
        guild.roles[name] = role
        self._gateway_event("GUILD_ROLE_CREATE", lambda s: {"guild_id": str(guild.id), "role": role.to_dict()}, guild)
        return role

    def add_user(self, name: str, *, locale: str = "en-US", id: int | None = None) -> FakeUser:
        """A user (not tied to a guild); use it for bot-DM interactions or with ``add_member(user=...)``."""
        user = FakeUser(name, id=id or snowflake(), locale=locale)
        self.users[user.id] = user
        return user

    def add_member(
        self,
        guild: FakeGuild,
        name: str | None = None,
        *,
        user: FakeUser | None = None,
        manage_guild: bool = False,
        administrator: bool = False,
        permissions: int = 0,
        roles: Iterable[FakeRole | str] = (),
        nick: str | None = None,
        locale: str = "en-US",
    ) -> FakeMember:
        """Add a member to ``guild`` (a new user called ``name``, or an existing ``user``).

        ``manage_guild``/``administrator``/``permissions`` give the member a role carrying those
        permission bits on top of @everyone.
        """
        if user is None:
            if name is None:
                raise ValueError("give a name or a user")
            user = self.add_user(name, locale=locale)
        member_roles = [guild.roles[r] if isinstance(r, str) else r for r in roles]
        extra = permissions | (Perm.MANAGE_GUILD if manage_guild else 0) | (Perm.ADMINISTRATOR if administrator else 0)
        if extra:
            role_name = "Admins" if administrator else ("Moderators" if manage_guild else f"perms-{extra}")
            role = guild.roles.get(role_name)
            if role is None or role.permissions != extra:
                role = FakeRole(
                    guild, role_name if role is None else f"{role_name}-{extra}", extra, position=len(guild.roles)
                )
                guild.roles[role.name] = role
                self._gateway_event(
                    "GUILD_ROLE_CREATE", lambda s: {"guild_id": str(guild.id), "role": role.to_dict()}, guild
                )
            member_roles.append(role)
        member = FakeMember(guild, user, roles=member_roles, nick=nick)
        guild.members[user.id] = member

        def member_add(s: GatewaySession) -> dict[str, Any] | None:
            if not s.intents & INTENT_GUILD_MEMBERS:
                return None
            return {"guild_id": str(guild.id), **member.to_dict()}

        self._gateway_event("GUILD_MEMBER_ADD", member_add, guild)
        return member

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        ch = self.dm_channels.get(user.id)
        if ch is None:
            ch = FakeChannel(f"dm-{user.name}", None, type=DM, recipient=user)
            self.dm_channels[user.id] = ch
        return ch

    def attachment(
        self, filename: str, data: bytes | str, content_type: str | None = None, *, description: str | None = None
    ) -> FakeAttachment:
        """A file a user attaches (to an ATTACHMENT option or a modal file upload), served by the fake."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        att = FakeAttachment(filename, data, content_type or guess_type(filename), description=description)
        if self._port is not None:
            att.url = self._file_url(att.id, filename)
        self.files[att.id] = att
        return att


def guess_type(filename: str) -> str | None:
    lower = filename.lower()
    if lower.endswith((".yaml", ".yml")):
        return "application/x-yaml"
    if lower.endswith(".md"):
        return "text/markdown; charset=utf-8"
    ctype, _ = mimetypes.guess_type(filename)
    if ctype and ctype.startswith("text/"):
        return ctype + "; charset=utf-8"
    return ctype
