"""The test driver: the user's side of an interaction (slash commands, autocomplete, context menus,
buttons, selects, modals), and the wait until the bot is done answering."""

from __future__ import annotations

import asyncio
import copy
import time
from contextlib import suppress
from typing import Any, TypedDict, Unpack

from .errors import NoResponse
from .interactions import (
    InvalidInteraction,
    Resolved,
    base_payload,
    check_command_access,
    command_data,
    component_data,
    modal_components,
    split_command_path,
)
from .models import DM, FakeChannel, FakeMember, FakeUser, Perm
from .records import InteractionRecord
from .result import INTERACTION_NAMES, ChoiceList, FakeMessage, InteractionResult
from .world import World


class AutocompleteWait(TypedDict, total=False):
    """How long the driver waits for an autocomplete answer, and whether one is required."""

    timeout: float | None  # default: the world's ``timeout``
    require_response: bool  # default True: no answer raises :class:`NoResponse`


class Wait(AutocompleteWait, total=False):
    """How the driver waits for the bot's answer to an interaction."""

    settle: float | None  # seconds of quiet that end the wait; default: the world's ``settle``
    followups: int  # follow-up messages to wait for (default 0)


def _resolved(actor: FakeMember | FakeUser) -> Resolved:
    """The ``resolved`` data of an interaction, seen with the actor's permissions."""
    return Resolved(actor.permissions if isinstance(actor, FakeMember) else 0)


class Driver(World):
    """The test API: play a user, send the interaction, wait until the bot is done, return what it did."""

    def _actor_and_channel(
        self, user: FakeMember | FakeUser, channel: FakeChannel | None
    ) -> tuple[FakeMember | FakeUser, FakeChannel]:
        if channel is None:
            if isinstance(user, FakeMember):
                texts = user.guild.text_channels
                if not texts:
                    raise InvalidInteraction(f"guild {user.guild.name!r} has no text channel; pass channel=")
                return user, texts[0]
            return user, self.dm_channel(user)
        if channel.type == DM:
            u = user.user if isinstance(user, FakeMember) else user
            return u, channel
        guild = channel.guild
        assert guild is not None
        if isinstance(user, FakeMember):
            if user.guild is not guild:
                member = guild.members.get(user.id)
                if member is None:
                    raise InvalidInteraction(f"{user.name} is not a member of {guild.name!r}")
                return member, channel
            return user, channel
        member = guild.members.get(user.id)
        if member is None:
            raise InvalidInteraction(f"{user.name} is not a member of {guild.name!r}")
        return member, channel

    async def _send(
        self,
        itype: int,
        data: dict[str, Any],
        actor: FakeMember | FakeUser,
        ch: FakeChannel,
        locale: str | None,
        wait: Wait,
        *,
        message: dict[str, Any] | None = None,
        source_message_id: int | None = None,
        option_type: int | None = None,
    ) -> InteractionResult:
        """Send an interaction of type ``itype`` carrying ``data`` from ``actor`` in ``ch`` (on
        ``message``, when it comes from one), and wait for the bot's answer."""
        payload = base_payload(
            application_id=self.application_id,
            itype=itype,
            data=data,
            user=actor,
            channel=ch,
            app_permissions=self._app_permissions(ch),
            locale=locale,
            message=message,
        )
        return await self._run(payload, actor, ch, wait, option_type=option_type, source_message_id=source_message_id)

    def _app_permissions(self, channel: FakeChannel) -> int:
        if channel.guild is None:
            return Perm.ATTACH_FILES | Perm.EMBED_LINKS | Perm.MENTION_EVERYONE | Perm.USE_EXTERNAL_EMOJIS
        return channel.guild.members[self.bot_user.id].permissions

    async def slash(
        self,
        command: str,
        options: dict[str, Any] | None = None,
        *,
        user: FakeMember | FakeUser,
        channel: FakeChannel | None = None,
        locale: str | None = None,
        check_permissions: bool = True,
        **wait: Unpack[Wait],
    ) -> InteractionResult:
        """Run a slash command as ``user`` and return what the bot answered.

        ``command`` is the command name, optionally followed by subcommand group/subcommand
        (``"lore-admin import"``); alternatively nest subcommands in ``options``
        (``{"import": {"file": att}}``). Option values are Python values: str, int, float,
        bool, FakeMember/FakeUser, FakeChannel, FakeRole, FakeAttachment; a choice may be given
        by value or by name. Raises :class:`InvalidInteraction` for input Discord would not send,
        :class:`CommandUnavailable` when the user could not see the command, :class:`NoResponse`
        if the bot never answers (unless ``require_response=False``).
        """
        path = split_command_path(command)
        actor, ch = self._actor_and_channel(user, channel)
        cmd = self.find_command(path[0], ch.guild)
        if check_permissions:
            check_command_access(cmd, actor, ch)
        resolved = _resolved(actor)
        data, _ = command_data(cmd, options, path[1:], resolved)
        return await self._send(2, data, actor, ch, locale, wait)

    async def autocomplete(
        self,
        command: str,
        options: dict[str, Any] | None = None,
        *,
        focused: str,
        user: FakeMember | FakeUser,
        channel: FakeChannel | None = None,
        locale: str | None = None,
        **wait: Unpack[AutocompleteWait],
    ) -> ChoiceList:
        """Send an autocomplete interaction for option ``focused`` (typed text in ``options``).

        Returns the choices (``.names``, ``.values``; ``.result`` has the full result).
        """
        path = split_command_path(command)
        actor, ch = self._actor_and_channel(user, channel)
        cmd = self.find_command(path[0], ch.guild)
        resolved = _resolved(actor)
        data, fdef = command_data(cmd, options, path[1:], resolved, focused=focused)
        waiting = Wait(timeout=wait.get("timeout"), require_response=wait.get("require_response", True))
        result = await self._send(4, data, actor, ch, locale, waiting, option_type=fdef["type"] if fdef else None)
        choices = ChoiceList(result.choices or [])
        choices.result = result
        return choices

    async def context_menu(
        self,
        name: str,
        target: FakeMember | FakeUser | FakeMessage | InteractionResult,
        *,
        user: FakeMember | FakeUser,
        channel: FakeChannel | None = None,
        locale: str | None = None,
        check_permissions: bool = True,
        **wait: Unpack[Wait],
    ) -> InteractionResult:
        """Run a user command (target: member/user) or message command (target: a message or result)."""
        actor, ch = self._actor_and_channel(user, channel)
        resolved = _resolved(actor)
        if isinstance(target, (FakeMember, FakeUser)):
            cmd = self.find_command(name, ch.guild, type=2)
            if isinstance(target, FakeUser) and ch.guild is not None and target.id in ch.guild.members:
                target = ch.guild.members[target.id]
            target_id = resolved.user(target)
        else:
            cmd = self.find_command(name, ch.guild, type=3)
            live, _ = self._live_message(target)
            target_id = str(live.id)
            resolved.data.setdefault("messages", {})[target_id] = live.to_discord()
        if check_permissions:
            check_command_access(cmd, actor, ch)
        data: dict[str, Any] = {
            "id": str(cmd["id"]),
            "name": cmd["name"],
            "type": cmd["type"],
            "target_id": target_id,
            "resolved": resolved.data,
        }
        if cmd.get("guild_id"):
            data["guild_id"] = str(cmd["guild_id"])
        return await self._send(2, data, actor, ch, locale, wait)

    def _live_message(
        self, target: InteractionResult | FakeMessage | int
    ) -> tuple[FakeMessage, InteractionRecord | None]:
        if isinstance(target, InteractionResult):
            msg = target.message or (target.followups[-1] if target.followups else None)
            if msg is None:
                raise InvalidInteraction("that interaction produced no message to interact with")
            mid = msg.id
            rec = self._records_by_id.get(target.interaction_id)
        elif isinstance(target, FakeMessage):
            mid, rec = target.id, None
        else:
            mid, rec = int(target), None
        live = self.messages.get(mid)
        if live is None or live.deleted:
            raise InvalidInteraction(f"message {mid} does not exist (deleted?)")
        if rec is None and live.interaction_id is not None:
            rec = self._records_by_id.get(live.interaction_id)
        return live, rec

    def _component_actor(
        self, live: FakeMessage, rec: InteractionRecord | None, user: FakeMember | FakeUser | None
    ) -> tuple[FakeMember | FakeUser, FakeChannel]:
        if user is None:
            if rec is None:
                raise InvalidInteraction("pass user=: cannot tell who should click")
            user = rec.actor
        channel = self._channel_by_id(live.channel_id)
        return self._actor_and_channel(user, channel)

    async def click(
        self,
        target: InteractionResult | FakeMessage | int,
        custom_id: str | None = None,
        *,
        label: str | None = None,
        user: FakeMember | FakeUser | None = None,
        locale: str | None = None,
        **wait: Unpack[Wait],
    ) -> InteractionResult:
        """Click a button (by ``custom_id`` or ``label``; either may be omitted if there is one button)
        on the message ``target`` produced. ``user`` defaults to whoever ran the original interaction."""
        live, rec = self._live_message(target)
        button = live.find_button(custom_id, label=label)
        if button.get("style") in (5, 6):
            raise InvalidInteraction("link/premium buttons do not send interactions")
        if button.get("disabled"):
            raise InvalidInteraction(f"button {button.get('custom_id')!r} is disabled")
        return await self._component(live, rec, button, None, user, locale, wait)

    async def select(
        self,
        target: InteractionResult | FakeMessage | int,
        custom_id: str | None = None,
        values: list[Any] | None = None,
        *,
        user: FakeMember | FakeUser | None = None,
        locale: str | None = None,
        **wait: Unpack[Wait],
    ) -> InteractionResult:
        """Pick ``values`` in a select menu (string values or labels; members/roles/channels for
        auto-populated selects)."""
        live, rec = self._live_message(target)
        sel = live.find_select(custom_id)
        if sel.get("disabled"):
            raise InvalidInteraction(f"select {sel.get('custom_id')!r} is disabled")
        return await self._component(live, rec, sel, list(values or []), user, locale, wait)

    async def _component(
        self,
        live: FakeMessage,
        rec: InteractionRecord | None,
        comp: dict[str, Any],
        values: list[Any] | None,
        user: FakeMember | FakeUser | None,
        locale: str | None,
        wait: Wait,
    ) -> InteractionResult:
        actor, ch = self._component_actor(live, rec, user)
        if live.ephemeral and rec is not None and actor.id != rec.actor.id:
            raise InvalidInteraction(f"only {rec.actor.name} can see that ephemeral message, not {actor.name}")
        resolved = _resolved(actor)
        data = component_data(live, comp, values, resolved)
        return await self._send(3, data, actor, ch, locale, wait, message=live.to_discord(), source_message_id=live.id)

    async def submit_modal(
        self,
        target: InteractionResult,
        values: dict[str, Any] | None = None,
        *,
        user: FakeMember | FakeUser | None = None,
        channel: FakeChannel | None = None,
        locale: str | None = None,
        **wait: Unpack[Wait],
    ) -> InteractionResult:
        """Fill in and submit the modal ``target`` opened: ``values`` maps input custom_ids to a str
        (text input, radio), a list (selects, checkbox group, file upload) or a bool (checkbox).
        Unfilled text inputs keep their pre-filled value; a missing required one is an error.
        ``user`` and ``channel`` default to where the modal was opened; others forge a submit (a
        client cannot do that, but a bot must not trust that nobody will)."""
        rec0 = self._records_by_id.get(target.interaction_id)
        modal = target.modal
        if modal is None or rec0 is None:
            raise InvalidInteraction("that interaction did not open a modal")
        actor, ch = self._actor_and_channel(user or rec0.actor, channel or rec0.channel)
        resolved = _resolved(actor)
        comps = modal_components(modal, dict(values or {}), resolved)
        data: dict[str, Any] = {"custom_id": modal.custom_id, "components": comps}
        if resolved.data:
            data["resolved"] = resolved.data
        message = None
        src = rec0.source_message_id
        if src is not None and src in self.messages:
            message = self.messages[src].to_discord()
        return await self._send(5, data, actor, ch, locale, wait, message=message, source_message_id=src)

    async def send_interaction(
        self,
        payload: dict[str, Any],
        *,
        actor: FakeMember | FakeUser,
        channel: FakeChannel,
        **wait: Unpack[Wait],
    ) -> InteractionResult:
        """Dispatch a hand-made INTERACTION_CREATE payload (see :mod:`fakediscord.interactions`)."""
        return await self._run(payload, actor, channel, wait)

    # ================================================== waiting for the bot
    async def _run(
        self,
        payload: dict[str, Any],
        actor: FakeMember | FakeUser,
        channel: FakeChannel,
        wait: Wait,
        *,
        option_type: int | None = None,
        source_message_id: int | None = None,
    ) -> InteractionResult:
        timeout, settle = wait.get("timeout"), wait.get("settle")
        timeout = self.timeout if timeout is None else timeout
        settle = self.settle if settle is None else settle
        session = self.session_for(channel)
        await self._drain_pending()
        rec = InteractionRecord(payload, actor, channel, option_type=option_type, source_message_id=source_message_id)
        self._records[rec.token] = rec
        self._records_by_id[rec.id] = rec
        self._active.add(rec)
        rec.tasks_before = asyncio.all_tasks()
        try:
            await session.dispatch("INTERACTION_CREATE", payload)
            await self._settle(rec, timeout, settle, wait.get("followups", 0))
        finally:
            self._active.discard(rec)
        result = self._result(rec)
        self.results.append(result)
        self.last_result = result
        if wait.get("require_response", True) and not result.responded:
            detail = "\n".join(rec.errors[-3:]) or "no error was logged"
            rejected = "".join(f"\n  rejected: {r} {r.response}" for r in rec.rejected)
            raise NoResponse(
                f"the bot did not answer interaction {INTERACTION_NAMES.get(rec.type, rec.type)} "
                f"within {timeout or self.timeout}s{rejected}\nbot errors:\n{detail}"
            )
        return result

    async def _settle(self, rec: InteractionRecord, timeout: float, settle: float, followups: int) -> None:
        deadline = time.monotonic() + timeout
        # Wait for the callback. Meanwhile spot the bot's handler task(s): if they all finish
        # without answering (e.g. the command raised), stop early instead of timing out.
        while not rec.attempted.is_set():
            rec.note_tasks()
            if rec.handler_tasks and all(t.done() for t in rec.handler_tasks):
                await asyncio.sleep(0)
                if not rec.attempted.is_set():
                    return
            if time.monotonic() > deadline:
                rec.timed_out = True
                return
            with suppress(TimeoutError):
                await asyncio.wait_for(rec.attempted.wait(), 0.005)
        # Then wait until the bot is done with it: its handler tasks have finished or are parked
        # waiting for the user (View.wait(), bot.wait_for()), a deferred "thinking" message has
        # been filled in, the requested number of follow-ups arrived, and nothing was sent for
        # `settle` seconds. A handler that keeps running without talking to Discord is given
        # `idle_timeout` seconds; a bot in another event loop (no visible tasks) 0.3 s of quiet.
        while time.monotonic() < deadline:
            rec.note_tasks()
            quiet = time.monotonic() - rec.last_activity
            busy = [t for t in rec.handler_tasks if not t.done() and not self._parked(t)]
            if rec.inflight:
                pass
            elif rec.handler_tasks and not busy:
                if quiet >= settle:
                    break
            else:
                original = self.messages.get(rec.original_id) if rec.original_id is not None else None
                unfilled = rec.callback_type == 5 and original is not None and original.loading
                if len(rec.followup_ids) >= followups and not unfilled:
                    limit = self.idle_timeout if rec.handler_tasks else max(settle, 0.3)
                    if quiet >= limit:
                        break
            await asyncio.sleep(0.005)

    def _result(self, rec: InteractionRecord) -> InteractionResult:
        msg = self.messages.get(rec.original_id) if rec.original_id is not None else None
        return InteractionResult(
            interaction=rec.payload,
            type=rec.callback_type,
            callback=copy.deepcopy(rec.callback_body),
            message=msg.snapshot() if msg is not None else None,
            followups=[self.messages[i].snapshot() for i in rec.followup_ids],
            edits=copy.deepcopy(rec.edits),
            choices=list(rec.choices) if rec.choices is not None else None,
            modal=copy.deepcopy(rec.modal),
            requests=list(rec.requests),
            violations=list(rec.violations),
            rejected=list(rec.rejected),
            errors=list(rec.errors),
            original_deleted=rec.original_deleted,
            timed_out=rec.timed_out,
        )
