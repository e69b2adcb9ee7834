"""One interaction in flight: what the bot did on its token, and which of its tasks handle it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .models import FakeChannel, FakeMember, FakeUser
from .result import Choice, ModalInfo, RecordedRequest, Violation

HANDLER_TASK_PREFIXES = (
    "CommandTree-invoker",
    "discord-ui-view-dispatch-",
    "discord-ui-modal-dispatch-",
    "discord-ui-dynamic-item-",
    "discord.py: on_interaction",
    "discord.py: on_app_command",
)


@dataclass(eq=False)
class InteractionRecord:
    payload: dict[str, Any]
    actor: FakeMember | FakeUser
    channel: FakeChannel
    option_type: int | None = None
    source_message_id: int | None = None
    created: float = field(default_factory=time.monotonic)
    callback_type: int | None = None
    callback_body: dict[str, Any] | None = None
    attempted: asyncio.Event = field(default_factory=asyncio.Event)
    original_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    rejected: list[RecordedRequest] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    choices: list[Choice] | None = None
    modal: ModalInfo | None = None
    original_deleted: bool = False
    last_activity: float = field(default_factory=time.monotonic)
    inflight: int = 0
    timed_out: bool = False
    tasks_before: set[asyncio.Task[Any]] = field(default_factory=set)
    handler_tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    @property
    def token(self) -> str:
        return str(self.payload["token"])

    @property
    def id(self) -> int:
        return int(self.payload["id"])

    @property
    def type(self) -> int:
        return int(self.payload["type"])

    def touch(self) -> None:
        self.last_activity = time.monotonic()

    def note_tasks(self, parked: Callable[[asyncio.Task[Any]], bool] | None = None) -> None:
        """Remember the bot's handler tasks for this interaction (discord.py names them).

        With ``parked`` (called while the bot awaits our reply to a request on this token), an
        older handler that is awake right now counts too: e.g. a slash command that waited on a
        confirmation view and now answers the button click itself.
        """
        for t in asyncio.all_tasks():
            if t in self.handler_tasks or not t.get_name().startswith(HANDLER_TASK_PREFIXES):
                continue
            if t not in self.tasks_before or (parked is not None and not t.done() and not parked(t)):
                self.handler_tasks.add(t)


def is_parked(task: asyncio.Task[Any], bot: Any) -> bool:
    """Is ``task`` suspended waiting for user input (``View.wait()`` / ``Client.wait_for`` of ``bot``)?"""
    listeners = getattr(bot, "_listeners", None) or {}
    futures = {id(fut) for entries in listeners.values() for fut, _check in entries}
    coro: Any = task.get_coro()
    for _ in range(64):
        if coro is None:
            return False
        code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
        if (
            code is not None
            and code.co_name == "wait"
            and code.co_filename.replace("\\", "/").endswith("discord/ui/view.py")
        ):
            return True
        frame = getattr(coro, "cr_frame", None)
        if frame is not None and id(frame.f_locals.get("fut")) in futures:
            return True
        awaited = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
        if awaited is not None and id(awaited) in futures:
            return True
        coro = awaited
    return False
