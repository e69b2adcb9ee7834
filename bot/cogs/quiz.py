"""/quiz: multiple-choice questions about the lore this channel has watched, with a leaderboard.

The questions and their rules (one answer each, who was right, the tally) come from
:mod:`lore.quiz`; this cog times the questions, lays them out with four buttons, reveals the
answer when time is up and keeps the server's scores through :class:`lore.scores.QuizScores`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
from dataclasses import dataclass, field
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds, limits
from bot.checks import guild_id_of
from bot.errors import Refused, report_error
from bot.replies import NO_MENTIONS, lore_for, policy_for, send, served_lore
from bot.views import Paginator, Timing
from lore import (
    QUESTIONS_MAX,
    Answered,
    Outcome,
    Policy,
    Question,
    QuizScores,
    Reveal,
    Session,
    questions_for,
    quiz_escape,
)

log = logging.getLogger(__name__)

LETTERS = "ABCD"
PER_PAGE = 10
#: The leaderboard shows at most this many pages (250 members).
MAX_PAGES = 25
#: Mentions listed in a reveal before "and N more".
MAX_NAMED = 25
PRIVATE_HELP = "Only you see the quiz, asked at your own /progress"


@dataclass(eq=False)
class Running:
    """A quiz in progress: the domain session, where it is shown, and its clock."""

    id: str
    key: tuple[int, int]  # (channel, 0) for a channel's quiz; (channel, user) for a private one
    guild_id: int
    starter_id: int
    private: bool
    policy: Policy
    session: Session
    interaction: discord.Interaction
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    stopped: bool = False
    stopped_by: int | None = None
    task: asyncio.Task[None] | None = None
    message: discord.Message | discord.InteractionMessage | discord.WebhookMessage | None = None

    def halted(self) -> bool:
        return self.stopped


def _topic(q: Question) -> str:
    return q.topic.capitalize()


def question_text(run: Running, seconds: float) -> str:
    q = run.session.current
    lines = [
        f"**Question {run.session.number}/{len(run.session.questions)}** · {_topic(q)}",
        q.prompt,
        "",
        *(f"**{LETTERS[i]}.** {quiz_escape(opt)}" for i, opt in enumerate(q.options)),
        "",
        f"-# {seconds:.0f} s to answer · one answer each · {run.policy.footer()}",
    ]
    return limits.shorten("\n".join(lines), limits.CONTENT)


def reveal_text(run: Running, reveal: Reveal) -> str:
    q = reveal.question
    lines = [
        f"**Question {reveal.number}/{len(run.session.questions)}** · {_topic(q)}",
        q.prompt,
        "",
        f"✅ **{LETTERS[q.answer]}. {quiz_escape(q.right)}**",
        q.explanation,
        "",
    ]
    if run.private:
        if run.starter_id in reveal.right:
            lines.append("You got it right.")
        else:
            lines.append("Not this time." if reveal.answered else "You did not answer.")
    elif not reveal.answered:
        lines.append("Nobody answered.")
    else:
        named = " ".join(f"<@{u}>" for u in reveal.right[:MAX_NAMED])
        more = f" and {len(reveal.right) - MAX_NAMED} more" if len(reveal.right) > MAX_NAMED else ""
        who = f": {named}{more}" if reveal.right else ""
        lines.append(f"Right ({len(reveal.right)} of {len(reveal.answered)}){who}")
    return limits.shorten("\n".join(lines), limits.CONTENT)


def intro_text(count: int, asked: int, private: bool, policy: Policy) -> str:
    """The line before a session's first question: how many questions, up to which episode."""
    intro = (
        f"**Quiz!** {count} question{'s' if count != 1 else ''} about what "
        f"{'you have' if private else 'this channel has'} watched (up to episode {policy.episode})."
    )
    if count < asked:
        intro += f" That is all the lore visible here supports (you asked for {asked})."
    return intro


def summary_text(run: Running) -> str:
    standings = run.session.standings()
    total = len(run.session.questions)
    asked = run.session.number
    head = "**Quiz stopped**" if run.stopped else "**Quiz over**"
    head += f" · {asked} of {total} question{'s' if total != 1 else ''}"
    if run.stopped_by is not None:
        head += f" (stopped by <@{run.stopped_by}>)"
    if not standings:
        return head + "\nNobody answered. `/quiz start` for another round."
    lines = [head]
    for i, (user, points) in enumerate(standings[:MAX_NAMED], 1):
        lines.append(f"**{i}.** <@{user}> — {points} right")
    if len(standings) > MAX_NAMED:
        lines.append(f"…and {len(standings) - MAX_NAMED} more.")
    lines.append("Scores are kept: `/quiz leaderboard`, `/quiz stats`.")
    return limits.shorten("\n".join(lines), limits.CONTENT)


class _AnswerButton(discord.ui.Button["QuestionView"]):
    def __init__(self, option: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.option = option

    async def callback(self, interaction: discord.Interaction) -> None:
        view = self.view
        if view is not None:
            await view.cog.answer(interaction, view.run, self.option)


def _channel_id(interaction: discord.Interaction) -> int:
    if interaction.channel_id is None:
        raise Refused("This command only works in a channel.")
    return interaction.channel_id


class QuestionView(discord.ui.View):
    """Four answer buttons. They stop working when the question closes (the reveal disables them)."""

    def __init__(self, cog: QuizCog, run: Running, *, reveal: Reveal | None = None):
        super().__init__(timeout=None)
        self.cog = cog
        self.run = run
        q = reveal.question if reveal else run.session.current
        number = reveal.number if reveal else run.session.number
        for i, option in enumerate(q.options):
            style = discord.ButtonStyle.primary
            if reveal is not None:
                style = discord.ButtonStyle.success if i == q.answer else discord.ButtonStyle.secondary
            self.add_item(
                _AnswerButton(
                    i,
                    label=limits.shorten(f"{LETTERS[i]}. {option}", limits.BUTTON_LABEL),
                    style=style,
                    custom_id=f"quiz:{run.id}:{number}:{i}",
                    disabled=reveal is not None,
                )
            )

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /) -> None:
        await report_error(interaction, error, source="component", where="QuestionView")


@app_commands.guild_only()
class QuizCog(
    commands.GroupCog, name="quiz", group_name="quiz", group_description="A spoiler-safe lore quiz for this channel"
):
    def __init__(self, bot: commands.Bot):
        self.bot = bot
        self.running: dict[tuple[int, int], Running] = {}
        self.starting: set[tuple[int, int]] = set()
        super().__init__()

    @property
    def scores(self) -> QuizScores:
        return served_lore(self.bot).quiz_scores

    async def cog_unload(self) -> None:
        for run in list(self.running.values()):
            run.stopped = True
            if run.task is not None:
                run.task.cancel()

    # -- /quiz start ---------------------------------------------------------------------------
    @app_commands.command(name="start", description="Start a multiple-choice quiz on what this channel has watched")
    @app_commands.describe(questions=f"How many questions, 1 to {QUESTIONS_MAX} (default 5)", private=PRIVATE_HELP)
    async def start(
        self,
        interaction: discord.Interaction,
        questions: app_commands.Range[int, 1, QUESTIONS_MAX] = 5,
        private: bool = False,
    ) -> None:
        guild_id = guild_id_of(interaction)
        key = (_channel_id(interaction), interaction.user.id if private else 0)
        if key in self.running or key in self.starting:
            raise Refused(
                "You already have a private quiz running here. `/quiz stop` ends it."
                if private
                else "A quiz is already running in this channel. Answer it, or `/quiz stop` to end it."
            )
        self.starting.add(key)  # held from here: the answers below wait for Discord
        try:
            await self._start(interaction, guild_id, key, questions, private)
        finally:
            self.starting.discard(key)

    async def _start(
        self, interaction: discord.Interaction, guild_id: int, key: tuple[int, int], questions: int, private: bool
    ) -> None:
        policy = policy_for(interaction, private)
        lore = lore_for(interaction)
        await interaction.response.defer(ephemeral=private, thinking=True)
        picked = questions_for(lore, policy, guild_id, questions, random.Random(secrets.randbits(64)))
        if not picked:
            raise Refused(f"There is not enough lore visible up to episode {policy.episode} for a quiz yet.")
        run = Running(
            id=secrets.token_hex(6),
            key=key,
            guild_id=guild_id,
            starter_id=interaction.user.id,
            private=private,
            policy=policy,
            session=Session(picked),
            interaction=interaction,
        )
        run.session.open()
        view = QuestionView(self, run)
        intro = intro_text(len(picked), questions, private, policy)
        content = limits.shorten(intro + "\n\n" + question_text(run, Timing.QUESTION_SECONDS), limits.CONTENT)
        self.running[key] = run
        try:
            run.message = await send(interaction, content, view=view, ephemeral=private)
        except BaseException:
            self.running.pop(key, None)
            raise
        run.task = asyncio.get_running_loop().create_task(self._play(run, view), name=f"quiz-{run.id}")

    async def _play(self, run: Running, view: QuestionView) -> None:
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(run.answered.wait(), Timing.QUESTION_SECONDS)
                view.stop()
                reveal = run.session.close()
                await self._record(run, reveal)
                await self._edit(run, reveal_text(run, reveal), QuestionView(self, run, reveal=reveal))
                if run.stopped or not run.session.advance():
                    break
                await asyncio.sleep(Timing.PAUSE_SECONDS)
                if run.halted():
                    break
                run.answered.clear()
                run.session.open()
                view = QuestionView(self, run)
                run.message = await run.interaction.followup.send(
                    question_text(run, Timing.QUESTION_SECONDS),
                    view=view,
                    ephemeral=run.private,
                    allowed_mentions=NO_MENTIONS,
                    wait=True,
                )
            await run.interaction.followup.send(
                summary_text(run), ephemeral=run.private, allowed_mentions=NO_MENTIONS, wait=True
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("quiz %s in channel %s failed", run.id, run.key[0])
        finally:
            if self.running.get(run.key) is run:
                del self.running[run.key]

    async def _edit(self, run: Running, content: str, view: discord.ui.View) -> None:
        if run.message is None:
            return
        try:
            await run.message.edit(content=content, view=view, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            log.warning("could not reveal the answer of quiz %s", run.id, exc_info=True)

    async def _record(self, run: Running, reveal: Reveal) -> None:
        answers = [Answered(u, right, first) for u, right, first in reveal.answers()]
        await self.scores.record(run.guild_id, answers)

    async def answer(self, interaction: discord.Interaction, run: Running, option: int) -> None:
        session = run.session
        if run.private and interaction.user.id != run.starter_id:
            raise Refused("This quiz is someone else's. `/quiz start` for your own.")
        outcome = session.answer(interaction.user.id, option)
        if outcome is Outcome.ALREADY:
            raise Refused("You already answered this question: one answer each.")
        if outcome is Outcome.CLOSED:
            raise Refused("This question is closed.")
        if run.private:
            await interaction.response.defer()
            run.answered.set()  # a private quiz moves on as soon as its one player answers
            return
        label = f"{LETTERS[option]}. {quiz_escape(session.current.options[option])}"
        await send(interaction, f"Your answer: **{label}**. The right one is shown when time is up.", ephemeral=True)

    # -- /quiz stop ----------------------------------------------------------------------------
    @app_commands.command(name="stop", description="Stop the quiz running in this channel (or your private one)")
    async def stop(self, interaction: discord.Interaction) -> None:
        guild_id_of(interaction)
        channel_id = _channel_id(interaction)
        run = self.running.get((channel_id, interaction.user.id)) or self.running.get((channel_id, 0))
        if run is None:
            raise Refused("No quiz is running in this channel.")
        perms = interaction.permissions
        may = (
            interaction.user.id == run.starter_id or perms.manage_messages or perms.manage_guild or perms.administrator
        )
        if not may:
            raise Refused("Only the member who started this quiz, or someone with **Manage Messages**, can stop it.")
        run.stopped = True
        if interaction.user.id != run.starter_id:
            run.stopped_by = interaction.user.id
        run.answered.set()
        await send(interaction, "The quiz stops after this question's answer.", ephemeral=True)

    # -- /quiz leaderboard ---------------------------------------------------------------------
    @app_commands.command(name="leaderboard", description="This server's quiz scores")
    async def leaderboard(self, interaction: discord.Interaction) -> None:
        guild_id = guild_id_of(interaction)
        scores = self.scores
        total = await scores.count(guild_id)
        policy = policy_for(interaction)
        if total == 0:
            raise Refused("Nobody has scored yet. `/quiz start` to play.")
        rows = await scores.leaderboard(guild_id, limit=PER_PAGE * MAX_PAGES)
        pages = []
        chunks = [rows[i : i + PER_PAGE] for i in range(0, len(rows), PER_PAGE)]
        for i, chunk in enumerate(chunks, 1):
            lines = [
                f"**{s.rank}.** <@{s.user_id}> — **{s.points}** point{'s' if s.points != 1 else ''} "
                f"({s.correct}/{s.answered} right)"
                for s in chunk
            ]
            embed = discord.Embed(title="Quiz leaderboard", colour=embeds.NEUTRAL, description="\n".join(lines))
            footer = f"{total} player{'s' if total != 1 else ''}"
            if len(chunks) > 1:
                footer += f" · page {i}/{len(chunks)}"
            embed.set_footer(text=embeds.footer_text(policy, extra=footer, franchise=lore_for(interaction).franchise))
            pages.append(embed)
        if len(pages) == 1:
            await send(interaction, embeds=pages)
            return
        view = Paginator(pages, interaction.user.id)
        view.message = await send(interaction, embeds=[pages[0]], view=view)

    # -- /quiz stats ---------------------------------------------------------------------------
    @app_commands.command(name="stats", description="Quiz scores of one member (you by default)")
    @app_commands.describe(member="Whose scores (default: yours)")
    async def stats(self, interaction: discord.Interaction, member: discord.Member | None = None) -> None:
        guild_id = guild_id_of(interaction)
        who = member or interaction.user
        scores = self.scores
        mine = await scores.of(guild_id, who.id)
        you = who.id == interaction.user.id
        if mine is None:
            text = "You have not answered a quiz question here yet." if you else f"<@{who.id}> has no quiz score here."
            await send(interaction, text, ephemeral=True)
            return
        total = await scores.count(guild_id)
        subject = "Your" if you else f"<@{who.id}>'s"
        text = (
            f"{subject} quiz scores in this server: **{mine.points}** point{'s' if mine.points != 1 else ''}, "
            f"rank **{mine.rank}** of {total} · {mine.correct} right of {mine.answered} answered "
            f"({mine.accuracy:.0%}) · {mine.sessions} quiz{'zes' if mine.sessions != 1 else ''}."
        )
        await send(interaction, text, ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(QuizCog(bot))
