"""/spoilers: a server's spoiler policy and per-channel overrides (Manage Server)."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import admin_group_check, guild_id_of
from bot.episodes import add_cog, episode_option
from bot.replies import defer, lore_for, policy_for, send
from bot.scheduler import ScheduleTicker
from lore import (
    DEFAULT_POLICY,
    SCHEDULE_SERVER,
    Franchise,
    LoreService,
    Mode,
    Policy,
    Schedule,
    Schedules,
    Setting,
    check_every,
    last_tick,
    parse_start,
)

log = logging.getLogger("lorebot")


class _OverrideChannel(app_commands.Transformer):
    """A channel that may carry an override: text, announcement or forum. Threads and forum posts
    follow their parent's. (Listed explicitly: discord.py would add media channels to a forum
    annotation, a type that Discord's published API description does not accept here.)"""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text, discord.ChannelType.news, discord.ChannelType.forum]

    async def transform(
        self, interaction: discord.Interaction, value: app_commands.AppCommandChannel, /
    ) -> app_commands.AppCommandChannel:
        return value


OverrideChannel = app_commands.Transform[app_commands.AppCommandChannel, _OverrideChannel]
CHANNEL_HELP = "Only this channel (its threads and forum posts follow it)"


class _AnnounceChannel(_OverrideChannel):
    """A channel the bot can post an announcement in: text or announcement."""

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text, discord.ChannelType.news]


AnnounceChannel = app_commands.Transform[app_commands.AppCommandChannel, _AnnounceChannel]
SCHEDULE_CHANNEL_HELP = "The schedule of this channel's episode, not the server's"
#: How many schedules /spoilers schedule show lists before saying how many more there are.
SHOW_AT_MOST = 8


def _target(channel_id: int) -> str:
    return "this server" if channel_id == SCHEDULE_SERVER else f"<#{channel_id}>"


def _when(at: float, style: str = "F") -> str:
    return f"<t:{int(at)}:{style}> (<t:{int(at)}:R>)"


def _plan(s: Schedule, episode: int, franchise: Franchise) -> str:
    """What a schedule will do, from the target's ``episode`` now, until the franchise's last
    episode (episode numbers, as the franchise names them, and times only)."""
    last = franchise.last
    if episode >= last:
        return f"at {franchise.label(episode)}, the last: nothing left to open"
    if episode + 1 == last:
        return f"{franchise.label(last)}, the last, opens {_when(s.next_at)}"
    until = last_tick(s, episode, last)
    every = "every day" if s.every_days == 1 else f"every {s.every_days} days"
    end = f" (<t:{int(until)}:D>)" if until is not None else ""
    return (
        f"{franchise.label(episode + 1)} opens {_when(s.next_at)}, then one episode {every} "
        f"until {franchise.label(last)}{end}"
    )


def _show_line(s: Schedule, episode: int, franchise: Franchise) -> str:
    where = "This server" if s.channel_id == SCHEDULE_SERVER else f"<#{s.channel_id}>"
    announce = f"announced in <#{s.announce_channel_id}>" if s.announce_channel_id else "not announced"
    if s.paused:
        state = f"**paused** at {franchise.label(episode)} (resuming goes on from the next opening still ahead)"
    else:
        state = _plan(s, episode, franchise)
    return f"**{where}**: {state}; zone {s.zone}; {announce}."


MODE_HELP = {
    Mode.HIDE: "later lore is left out, as if it did not exist",
    Mode.TAG: "as hide, plus one spoiler-tagged block of later lore in every reply",
    Mode.SHOW: "everything is shown",
}


def _setting_text(setting: Setting, franchise: Franchise) -> str:
    parts = []
    if setting.episode is not None:
        parts.append(f"up to {franchise.label(setting.episode)}")
    if setting.mode is not None:
        parts.append(f"mode {setting.mode.value}")
    return ", ".join(parts) or "not set"


async def schedule_show_text(lore: LoreService, schedules: Schedules, guild_id: int) -> str:
    """/spoilers schedule show: every schedule of the server, what it opens next and when."""
    found = await schedules.of_guild(guild_id)
    if not found:
        return "No spoiler schedule in this server. `/spoilers schedule start` opens one episode at a time."
    lines = ["**Spoiler schedules**"]
    for s in found[:SHOW_AT_MOST]:
        episode = await schedules.episode_of(guild_id, s.channel_id)
        lines.append(_show_line(s, episode, lore.franchise))
    if len(found) > SHOW_AT_MOST:
        lines.append(f"… and {len(found) - SHOW_AT_MOST} more channel schedule(s).")
    return "\n".join(lines)


async def status_text(lore: LoreService, schedules: Schedules, guild_id: int, here: Policy) -> str:
    """/spoilers status: the policy ``here`` in force, the server's setting, every channel
    override, and the schedules in brief."""
    server = lore.server_setting(guild_id)
    lines = [
        f"**In force in this channel:** up to {lore.franchise.label(here.episode)} · {here.mode.value} "
        f"({MODE_HELP[here.mode]})",
        f"**Server setting:** {_setting_text(server, lore.franchise)}"
        + ("" if not server.empty else f" (default: episode {DEFAULT_POLICY.episode}, {DEFAULT_POLICY.mode})"),
    ]
    overrides = lore.channel_overrides(guild_id)
    if overrides:
        lines.append("**Channel overrides:**")
        for channel_id, setting in sorted(overrides.items()):
            lines.append(f"• <#{channel_id}>: {_setting_text(setting, lore.franchise)}")
    else:
        lines.append("**Channel overrides:** none")
    found = await schedules.of_guild(guild_id)
    if found:
        server_schedule = next((s for s in found if s.channel_id == SCHEDULE_SERVER), None)
        if server_schedule is not None and server_schedule.paused:
            lines.append("**Schedule:** paused")
        elif server_schedule is not None:
            lines.append(f"**Schedule:** the next episode opens {_when(server_schedule.next_at)}")
        channels = len(found) - (server_schedule is not None)
        if channels:
            lines.append(f"**Channel schedules:** {channels} (see `/spoilers schedule show`)")
    return "\n".join(lines)


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class Spoilers(commands.GroupCog, group_name="spoilers", group_description="Spoiler settings for this server"):
    schedule = app_commands.Group(name="schedule", description="Open one episode at a time on a timetable")

    def __init__(self, bot: commands.Bot):
        self.bot = bot
        clock = getattr(bot, "clock", None)
        interval = getattr(bot, "schedule_interval", None)
        self.ticker = ScheduleTicker(
            bot,  # type: ignore[arg-type]
            **({"clock": clock} if clock is not None else {}),
            **({"interval": interval} if interval is not None else {}),
        )
        super().__init__()

    async def cog_load(self) -> None:
        self.ticker.start()

    async def cog_unload(self) -> None:
        await self.ticker.stop()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await admin_group_check(interaction)

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Removed from a server: its schedules are paused, not cleared (see ``ScheduleTicker.pause_guild``)."""
        try:
            await self.ticker.pause_guild(guild.id)
        except Exception as e:  # the ticker's announcements then fail and are logged, as before
            log.warning("removed from server %d, but could not pause its spoiler schedules: %s", guild.id, e)

    def _schedules(self, interaction: discord.Interaction) -> Schedules:
        return lore_for(interaction).schedules

    @schedule.command(name="start", description="Open the next episode at a date and time, then one every few days")
    @app_commands.describe(
        start="First opening, e.g. 2026-12-10 20:00 Europe/Paris or 2026-12-10T20:00+01:00 (UTC if no zone)",
        every="Days between two openings (7: weekly)",
        channel=SCHEDULE_CHANNEL_HELP,
        announce="Where to announce each opening (nobody is pinged)",
    )
    async def schedule_start(
        self,
        interaction: discord.Interaction,
        start: app_commands.Range[str, 1, 100],
        every: app_commands.Range[int, 1, 365],
        channel: OverrideChannel | None = None,
        announce: AnnounceChannel | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        when = parse_start(start, self.ticker.clock())  # refusals are sentences, through the error path
        check_every(every)
        await defer(interaction)
        wanted = Schedule(
            guild_id=guild_id,
            channel_id=channel.id if channel else SCHEDULE_SERVER,
            anchor=when.at,
            every_days=every,
            zone=when.zone,
            announce_channel_id=announce.id if announce else None,
            created_by=interaction.user.id,
        )
        started = await self._schedules(interaction).start(wanted)
        where = _target(wanted.channel_id)
        lines = [
            f"**Schedule set for {where}**" + (" (it replaces the one before)" if started.replaced else "") + ":",
            f"• {_plan(wanted, started.episode, lore_for(interaction).franchise)}.",
            f"• Understood: {when.understood()}.",
        ]
        if wanted.channel_id == SCHEDULE_SERVER:
            own = [
                cid for cid, st in lore_for(interaction).channel_overrides(guild_id).items() if st.episode is not None
            ]
            if own:
                lines.append(
                    f"• {len(own)} channel(s) with an episode of their own do not follow the server's "
                    "(give them a schedule with `channel`, or `/spoilers reset` them)."
                )
        if announce is None:
            lines.append("• Openings are not announced (give `announce` to have them posted in a channel).")
        else:
            lines.append(f"• Each opening is announced in {announce.mention} (nobody is pinged).")
            if not self._can_post(interaction, announce.id):
                lines.append(
                    f"⚠️ I cannot send messages in {announce.mention} right now: until I can, announcements "
                    "there are skipped (the schedule goes on)."
                )
        lines.append("`/spoilers schedule show` lists schedules; `pause`, `resume` and `clear` change them.")
        await send(interaction, "\n".join(lines), ephemeral=True)

    @staticmethod
    def _can_post(interaction: discord.Interaction, channel_id: int) -> bool:
        guild = interaction.guild
        channel = guild.get_channel(channel_id) if guild is not None else None
        if guild is None or channel is None or guild.me is None:
            return True  # not in this process's cache: the announcement will tell
        perms = channel.permissions_for(guild.me)
        return perms.view_channel and perms.send_messages

    @schedule.command(name="show", description="This server's spoiler schedules: what opens next, and when")
    async def schedule_show(self, interaction: discord.Interaction) -> None:
        text = await schedule_show_text(lore_for(interaction), self._schedules(interaction), guild_id_of(interaction))
        await send(interaction, text, ephemeral=True)

    @schedule.command(name="pause", description="Stop opening episodes for now (the episode stays where it is)")
    @app_commands.describe(channel=SCHEDULE_CHANNEL_HELP)
    async def schedule_pause(self, interaction: discord.Interaction, channel: OverrideChannel | None = None) -> None:
        guild_id = guild_id_of(interaction)
        target = channel.id if channel else SCHEDULE_SERVER
        await defer(interaction)
        changed = await self._schedules(interaction).pause(guild_id, target)
        where = _target(target)
        if changed.before is None:
            text = f"There is no schedule for {where}; nothing changed."
        elif changed.after is None:
            text = f"The schedule of {where} is already paused; nothing changed."
        else:
            text = (
                f"Paused the schedule of {where}: no episode opens until `/spoilers schedule resume`, which goes "
                "on from the next opening still ahead."
            )
        await send(interaction, text, ephemeral=True)

    @schedule.command(name="resume", description="Open episodes again, from the next opening still ahead")
    @app_commands.describe(channel=SCHEDULE_CHANNEL_HELP)
    async def schedule_resume(self, interaction: discord.Interaction, channel: OverrideChannel | None = None) -> None:
        guild_id = guild_id_of(interaction)
        target = channel.id if channel else SCHEDULE_SERVER
        await defer(interaction)
        schedules = self._schedules(interaction)
        changed = await schedules.resume(guild_id, target, now=self.ticker.clock())
        where = _target(target)
        if changed.before is None:
            text = f"There is no schedule for {where}; nothing changed."
        elif changed.after is None:
            text = f"The schedule of {where} is not paused; nothing changed."
        else:
            episode = await schedules.episode_of(guild_id, target)
            plan = _plan(changed.after, episode, lore_for(interaction).franchise)
            text = f"Resumed the schedule of {where}: {plan}."
        await send(interaction, text, ephemeral=True)

    @schedule.command(name="clear", description="Remove a schedule (the episode stays where it is)")
    @app_commands.describe(channel=SCHEDULE_CHANNEL_HELP)
    async def schedule_clear(self, interaction: discord.Interaction, channel: OverrideChannel | None = None) -> None:
        guild_id = guild_id_of(interaction)
        target = channel.id if channel else SCHEDULE_SERVER
        await defer(interaction)
        schedules = self._schedules(interaction)
        old = await schedules.clear(guild_id, target)
        where = _target(target)
        if old is None:
            text = f"There is no schedule for {where}; nothing changed."
        else:
            episode = await schedules.episode_of(guild_id, target)
            text = f"Cleared the schedule of {where}; its episode stays at {episode}."
        await send(interaction, text, ephemeral=True)

    @app_commands.command(name="status", description="The spoiler policy in force here, and every channel override")
    async def status(self, interaction: discord.Interaction) -> None:
        lore = lore_for(interaction)
        text = await status_text(lore, self._schedules(interaction), guild_id_of(interaction), policy_for(interaction))
        await send(interaction, text, ephemeral=True)

    @app_commands.command(name="episode", description="Set how far this server (or one channel) has watched")
    @app_commands.describe(number="Episodes watched, {first} to {last}", channel=CHANNEL_HELP)
    @episode_option(number=0)
    async def episode(
        self,
        interaction: discord.Interaction,
        number: int,
        channel: OverrideChannel | None = None,
    ) -> None:
        await defer(interaction)
        lore = lore_for(interaction)
        await lore.set_policy(guild_id_of(interaction), channel_id=channel.id if channel else None, episode=number)
        where = channel.mention if channel else "this server"
        code = lore.franchise.code(number)
        text = f"Spoilers in {where}: up to episode **{number}**" + (f" ({code})" if code else "") + "."
        await send(interaction, text, ephemeral=True)

    @app_commands.command(name="mode", description="How lore beyond the episode setting is shown")
    @app_commands.describe(mode="hide, tag (spoiler tags) or show", channel=CHANNEL_HELP)
    @app_commands.choices(mode=[app_commands.Choice(name=f"{m.value} — {MODE_HELP[m]}", value=m.value) for m in Mode])
    async def mode(
        self,
        interaction: discord.Interaction,
        mode: app_commands.Choice[str],
        channel: OverrideChannel | None = None,
    ) -> None:
        await defer(interaction)
        lore = lore_for(interaction)
        new = Mode(mode.value)
        await lore.set_policy(guild_id_of(interaction), channel_id=channel.id if channel else None, mode=new)
        where = channel.mention if channel else "this server"
        await send(interaction, f"Spoiler mode in {where}: **{new.value}** ({MODE_HELP[new]}).", ephemeral=True)

    @app_commands.command(name="reset", description="Remove a channel's override (it follows the server again)")
    @app_commands.describe(channel="The channel to reset")
    async def reset(self, interaction: discord.Interaction, channel: OverrideChannel) -> None:
        await defer(interaction)
        lore = lore_for(interaction)
        existed = await lore.reset_channel(guild_id_of(interaction), channel.id)
        text = (
            f"{channel.mention} follows the server's spoiler setting again."
            if existed
            else f"{channel.mention} had no override; nothing changed."
        )
        await send(interaction, text, ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await add_cog(bot, Spoilers(bot))
