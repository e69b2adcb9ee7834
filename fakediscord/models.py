"""Entities of the fake Discord world: users, guilds, channels, roles, members, attachments.

Everything here is plain data plus ``to_*`` methods that build the JSON shapes Discord sends
(gateway GUILD_CREATE, interaction ``member``/``channel``/``resolved`` objects).
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

DISCORD_EPOCH_MS = 1420070400000

_counter = itertools.count()
_counter_lock = threading.Lock()


def snowflake() -> int:
    """A new, unique, time-ordered Discord snowflake."""
    with _counter_lock:
        inc = next(_counter) & 0xFFF
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (1 << 17) | inc


def iso_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", time.gmtime())


# Permission bits (https://discord.com/developers/docs/topics/permissions)
class Perm:
    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    CHANGE_NICKNAME = 1 << 26
    MANAGE_ROLES = 1 << 28
    USE_APPLICATION_COMMANDS = 1 << 31
    SEND_MESSAGES_IN_THREADS = 1 << 38
    ALL = (1 << 51) - 1


EVERYONE_DEFAULT = (
    Perm.CREATE_INSTANT_INVITE
    | Perm.ADD_REACTIONS
    | Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.CONNECT
    | Perm.SPEAK
    | Perm.CHANGE_NICKNAME
    | Perm.USE_APPLICATION_COMMANDS
    | Perm.SEND_MESSAGES_IN_THREADS
)

BOT_DEFAULT = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.ADD_REACTIONS
    | Perm.USE_APPLICATION_COMMANDS
    | Perm.SEND_MESSAGES_IN_THREADS
)


@dataclass(eq=False)
class FakeUser:
    name: str
    id: int = field(default_factory=snowflake)
    global_name: str | None = None
    bot: bool = False
    locale: str = "en-US"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.name.lower().replace(" ", "_"),
            "discriminator": "0",
            "global_name": self.global_name if self.global_name is not None else self.name,
            "avatar": None,
            "avatar_decoration_data": None,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "clan": None,
            "primary_guild": None,
            "collectibles": None,
        }
        if self.bot:
            data["bot"] = True
        return data

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass(eq=False)
class FakeRole:
    guild: FakeGuild
    name: str
    permissions: int = 0
    id: int = field(default_factory=snowflake)
    position: int = 1
    color: int = 0
    managed: bool = False
    bot_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "description": None,
            "color": self.color,
            "colors": {"primary_color": self.color, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": False,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


# Channel types (https://discord.com/developers/docs/resources/channel#channel-object-channel-types)
GUILD_TEXT = 0
DM = 1
GUILD_VOICE = 2
GUILD_CATEGORY = 4
GUILD_ANNOUNCEMENT = 5
ANNOUNCEMENT_THREAD = 10
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12
THREAD_TYPES = (ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD)
GUILD_FORUM = 15


@dataclass(eq=False)
class FakeChannel:
    name: str
    guild: FakeGuild | None
    type: int = GUILD_TEXT
    id: int = field(default_factory=snowflake)
    position: int = 0
    topic: str | None = None
    nsfw: bool = False
    parent: FakeChannel | None = None
    recipient: FakeUser | None = None  # DM channels only
    #: Permission overwrites: target id (a role or a member) -> (type 0 role / 1 member, allow, deny).
    overwrites: dict[int, tuple[int, int, int]] = field(default_factory=dict)

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def to_dict(self) -> dict[str, Any]:
        """The channel object as found in GUILD_CREATE / GET /channels/{id}."""
        if self.type == DM:
            assert self.recipient is not None
            return {
                "id": str(self.id),
                "type": DM,
                "last_message_id": None,
                "flags": 0,
                "recipients": [self.recipient.to_dict()],
            }
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild.id) if self.guild else None,
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [
                {"id": str(target), "type": kind, "allow": str(allow), "deny": str(deny)}
                for target, (kind, allow, deny) in self.overwrites.items()
            ],
            "parent_id": str(self.parent.id) if self.parent else None,
            "flags": 0,
        }
        if self.type in (GUILD_TEXT, GUILD_ANNOUNCEMENT, GUILD_FORUM):
            data.update(
                topic=self.topic,
                nsfw=self.nsfw,
                rate_limit_per_user=0,
                last_message_id=None,
            )
        if self.type == GUILD_VOICE:
            data.update(bitrate=64000, user_limit=0, rtc_region=None, nsfw=False, rate_limit_per_user=0)
        if self.type in THREAD_TYPES:  # a thread, or a post in a forum channel
            data.pop("position")
            data.pop("permission_overwrites")
            data.update(
                owner_id=str(self.guild.owner_id) if self.guild and self.guild.owner_id else None,
                last_message_id=None,
                rate_limit_per_user=0,
                message_count=0,
                member_count=1,
                total_message_sent=0,
                thread_metadata={
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": "2024-01-11T00:55:00+00:00",
                    "locked": False,
                },
            )
        return data


@dataclass(eq=False)
class FakeMember:
    guild: FakeGuild
    user: FakeUser
    roles: list[FakeRole] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso_now)
    is_owner: bool = False

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def locale(self) -> str:
        return self.user.locale

    @property
    def mention(self) -> str:
        return self.user.mention

    @property
    def permissions(self) -> int:
        """Guild-level permissions: @everyone + roles; owners and administrators get everything."""
        if self.is_owner:
            return Perm.ALL
        perms = self.guild.everyone.permissions
        for role in self.roles:
            perms |= role.permissions
        if perms & Perm.ADMINISTRATOR:
            return Perm.ALL
        return perms

    def has(self, perm: int) -> bool:
        return (self.permissions & perm) == perm

    def permissions_in(self, channel: FakeChannel) -> int:
        """Channel permissions (Discord's order: @everyone's overwrite, the roles', the member's);
        a thread follows its parent's overwrites."""
        base = self.permissions
        if base == Perm.ALL:
            return base
        source = channel.parent if channel.parent is not None and not channel.overwrites else channel
        over = source.overwrites
        perms = base
        if self.guild.id in over:  # @everyone's role has the guild's id
            _, allow, deny = over[self.guild.id]
            perms = (perms & ~deny) | allow
        role_allow = role_deny = 0
        for role in self.roles:
            if role.id in over:
                role_allow |= over[role.id][1]
                role_deny |= over[role.id][2]
        perms = (perms & ~role_deny) | role_allow
        if self.id in over:
            _, allow, deny = over[self.id]
            perms = (perms & ~deny) | allow
        return perms

    def to_dict(self, *, with_user: bool = True, permissions: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "avatar": None,
            "banner": None,
            "communication_disabled_until": None,
            "deaf": False,
            "flags": 0,
            "joined_at": self.joined_at,
            "mute": False,
            "nick": self.nick,
            "pending": False,
            "premium_since": None,
            "roles": [str(r.id) for r in self.roles],
            "unusual_dm_activity_until": None,
        }
        if with_user:
            data["user"] = self.user.to_dict()
        if permissions:
            data["permissions"] = str(self.permissions)
        return data


@dataclass(eq=False)
class FakeGuild:
    name: str
    id: int = field(default_factory=snowflake)
    locale: str = "en-US"
    owner_id: int | None = None
    channels: dict[str, FakeChannel] = field(default_factory=dict)
    roles: dict[str, FakeRole] = field(default_factory=dict)
    members: dict[int, FakeMember] = field(default_factory=dict)
    features: list[str] = field(default_factory=list)
    premium_tier: int = 0

    @property
    def everyone(self) -> FakeRole:
        return self.roles["@everyone"]

    @property
    def text_channels(self) -> list[FakeChannel]:
        return [c for c in self.channels.values() if c.type == GUILD_TEXT]

    def channel(self, name_or_id: str | int) -> FakeChannel:
        if isinstance(name_or_id, int):
            for ch in self.channels.values():
                if ch.id == name_or_id:
                    return ch
            raise KeyError(name_or_id)
        return self.channels[name_or_id.lstrip("#")]

    def member(self, name_or_id: str | int) -> FakeMember:
        if isinstance(name_or_id, int):
            return self.members[name_or_id]
        for m in self.members.values():
            if m.user.name == name_or_id or m.nick == name_or_id:
                return m
        raise KeyError(name_or_id)

    def partial(self) -> dict[str, Any]:
        """The partial guild object interactions carry."""
        return {"id": str(self.id), "locale": self.locale, "features": list(self.features)}

    def to_gateway(self, *, include_members: bool, bot_user_id: int) -> dict[str, Any]:
        members = [m.to_dict() for m in self.members.values() if include_members or m.user.id == bot_user_id]
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id) if self.owner_id else None,
            "region": "deprecated",
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": self.premium_tier,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": self.locale,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "max_members": 25000000,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "application_id": None,
            "features": list(self.features),
            "roles": [r.to_dict() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "channels": [c.to_dict() for c in self.channels.values() if c.type not in THREAD_TYPES],
            "threads": [c.to_dict() for c in self.channels.values() if c.type in THREAD_TYPES],
            "members": members,
            "member_count": len(self.members),
            "large": False,
            "lazy": True,
            "unavailable": False,
            "joined_at": iso_now(),
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "embedded_activities": [],
            "incidents_data": None,
            "hub_type": None,
            "nsfw": False,
        }


@dataclass(eq=False)
class FakeAttachment:
    """A file a *user* attaches to a slash-command option or a modal file upload.

    The bytes are served by the fake at ``url`` so ``discord.Attachment.read()`` works.
    """

    filename: str
    data: bytes
    content_type: str | None = None
    id: int = field(default_factory=snowflake)
    description: str | None = None
    url: str = ""

    @property
    def size(self) -> int:
        return len(self.data)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url,
            "ephemeral": True,
        }
        if self.content_type:
            data["content_type"] = self.content_type
        if self.description:
            data["description"] = self.description
        return data
