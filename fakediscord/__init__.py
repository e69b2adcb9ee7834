"""A local fake of Discord's REST API and gateway for driving a real, unmodified discord.py bot.

``FakeDiscord`` runs an aiohttp server on 127.0.0.1 (random port) that speaks enough of
Discord's HTTP API (``/api/v10``) and gateway (websocket: HELLO, IDENTIFY/READY, GUILD_CREATE,
heartbeats, RESUME, zlib-stream/zstd-stream transport compression) for a
``discord.ext.commands.Bot`` to log in, sync its application commands and answer interactions.
The test API then plays the user: it builds INTERACTION_CREATE payloads like Discord's from the
commands the bot registered, dispatches them, and collects what the bot sent back.

Walkthrough::

    from fakediscord import FakeDiscord

    async with FakeDiscord() as fake:
        guild = fake.add_guild("Rouge Fans", channels=["general", "spoilers"])
        admin = fake.add_member(guild, "Admin", manage_guild=True)
        viewer = fake.add_member(guild, "Viewer")

        bot = MyBot(...)                                # a real commands.Bot
        async with fake.running(bot, token="fake-token"):
            # logged in, connected, guilds cached (on_ready may still be 2 s away)
            r = await fake.slash("character", {"name": "rouge"}, user=viewer,
                                 channel=guild.channels["spoilers"])
            r.type, r.content, r.embeds, r.components, r.ephemeral, r.files
            print(r.text)                               # plain-text rendering

            choices = await fake.autocomplete("character", {"name": "ro"}, focused="name", user=viewer)
            choices.names, choices.values

            r2 = await fake.click(r, "next-page")       # button by custom_id (or label=...)
            r3 = await fake.select(r, "pick", ["episode-3"])
            r4 = await fake.slash("report", user=admin)  # bot answers with a modal
            r5 = await fake.submit_modal(r4, {"summary": "..."})

            att = fake.attachment("pack.yaml", b"name: rouge\\n")
            r6 = await fake.slash("lore-admin", {"import": {"file": att}}, user=admin)
            r7 = await fake.slash("lore-admin import", {"file": att}, user=admin)  # same thing
            r8 = await fake.context_menu("Quote", r, user=viewer)     # message command (or a member: user command)
            dm = await fake.slash("ping", user=fake.add_user("Loner"))  # a bot-DM interaction
        # leaving running(): bot closed, patches undone, ViolationsError if any payload broke a rule
        fake.sync_count, fake.global_sync_count, fake.guild_sync_count(guild)

What the bot answered (:class:`InteractionResult`): ``type`` (callback type: 4 message, 5 deferred,
6 deferred update, 7 update, 8 autocomplete, 9 modal), ``message`` (the response message after
edits to ``@original`` -- or the component's message for 6/7 -- as a :class:`FakeMessage` snapshot),
``content``/``embeds``/``embed``/``components``/``buttons``/``selects``/``flags``/``ephemeral``/
``attachments``/``files`` (shortcuts into ``message``), ``followups``, ``edits``, ``messages``,
``choices``, ``modal`` (:class:`ModalInfo`: ``title``, ``custom_id``, ``components``, ``inputs``),
``violations``, ``errors`` (exceptions discord.py logged meanwhile), ``rejected``, ``requests``,
``all_text`` and ``text`` (rendered by :mod:`fakediscord.render`).

When is an interaction "done"? The harness waits for the callback, then for the bot's handler
tasks (discord.py names them: ``CommandTree-invoker``, ``discord-ui-view-dispatch-*``,
``discord-ui-modal-dispatch-*``) to finish -- or to park in ``View.wait()``/``bot.wait_for()``
waiting for the user -- and for a deferred "thinking" message to be filled in, then for
``settle`` seconds (0.05) without requests on that interaction's token. Pass ``followups=n`` to
wait for n follow-up messages. A handler that keeps working without talking to Discord gets
``idle_timeout`` (1 s); a bot in another event loop (no visible tasks) 0.3 s of quiet. If the
handler ends without answering, :class:`NoResponse` is raised at once with the exception the
bot logged (``require_response=False`` returns the unanswered result instead).

Realism notes: option payloads come from the *registered* commands (ids, types, guild_id for
guild commands); a user lacking ``default_member_permissions`` gets :class:`CommandUnavailable`
(pass ``check_permissions=False`` to simulate a server override); interactions carry
``member.permissions``, ``app_permissions``, ``locale``/``guild_locale``, ``entitlements``,
``authorizing_integration_owners``, ``context`` and ``attachment_size_limit``; attachments point
at ``http://127.0.0.1:PORT/attachments/...`` which discord.py fetches with its own session;
the first follow-up after a deferred response replaces the "thinking" message; callbacks later
than 3 s are refused with 10062 like Discord does; a second callback gets 40060.

Validation (:mod:`fakediscord.validate`): every body is checked against Discord's documented
limits and shapes, the project's no-ping rule (``allowed_mentions`` must be
``AllowedMentions.none()``), and -- when ``../shared/discord-api/openapi.json`` (or
``$LOREBOT_DISCORD_OPENAPI``) exists and ``jsonschema`` is installed -- Discord's OpenAPI schema.
Violations are collected in ``fake.violations`` (and per result); breaking a Discord rule also
gets the 400 ``Invalid Form Body`` Discord would send (``reject_invalid=False`` to accept
anyway). ``running()`` raises :class:`ViolationsError` at the end if any were recorded
(``check_violations=False`` or ``fake.take_violations()`` for tests that expect some).

Gateway controls: ``await fake.disconnect(4000)`` closes the socket server-side and waits for
the bot to RESUME (events dispatched meanwhile are replayed); ``fake.request_reconnect()``
sends opcode 7; ``fake.dispatch_event(name, data)`` sends any event; ``fake.resume_count``,
``fake.identify_count``, ``fake.connections`` (with the query each connection used).

discord.py details the fake relies on (2.7.x): a non-sharded client never calls
``/gateway/bot`` and connects to ``DiscordWebSocket.DEFAULT_GATEWAY`` with
``?v=10&encoding=json&compress=zlib-stream`` (``zstd-stream`` if ``zstandard`` or
``compression.zstd`` is importable); REST bodies are only parsed when the response's
Content-Type is exactly ``application/json``; interaction callbacks are posted with
``?with_response=1`` and the ``response_message_id`` in the answer is what views are stored
under (so clicks find them); ``Attachment.read()`` GETs ``attachment.url`` with the bot's own
HTTP session; 5xx answers are retried with back-off (the fake never sends them); after
INVALID_SESSION the client waits 5 s in ``before_identify_hook`` before IDENTIFYing again;
``on_ready`` comes ``guild_ready_timeout`` (2 s) after the last GUILD_CREATE, which
``running()`` does not wait for unless ``wait_ready=True``.

Where things are: :mod:`~fakediscord.server` (``FakeDiscord``: ``start``, ``stop``, ``running``)
assembles :mod:`~fakediscord.state` (everything the fake holds), :mod:`~fakediscord.world`
(``add_guild``, ``add_member``, ...), :mod:`~fakediscord.driver` (``slash``, ``click``, ... and the
wait for the bot), :mod:`~fakediscord.rest` with one ``rest_*`` module per resource, and
:mod:`~fakediscord.gateway_server`; interaction payloads are built by
:mod:`~fakediscord.interactions`, what the bot sent is kept in :mod:`~fakediscord.result`.

This package imports neither pytest nor jsonschema at import time; ``fakediscord.pytest_plugin``
has a ``fake_discord`` fixture.
"""

from .interactions import CommandUnavailable, InvalidInteraction
from .models import FakeAttachment, FakeChannel, FakeGuild, FakeMember, FakeRole, FakeUser, Perm
from .patch import patch_discord
from .render import render_message, render_result
from .result import (
    Choice,
    FakeMessage,
    FileAttachment,
    InteractionResult,
    ModalInfo,
    RecordedRequest,
    Violation,
)
from .server import ChoiceList, FakeDiscord, FakeDiscordError, NoResponse, ViolationsError

__all__ = [
    "Choice",
    "ChoiceList",
    "CommandUnavailable",
    "FakeAttachment",
    "FakeChannel",
    "FakeDiscord",
    "FakeDiscordError",
    "FakeGuild",
    "FakeMember",
    "FakeMessage",
    "FakeRole",
    "FakeUser",
    "FileAttachment",
    "InteractionResult",
    "InvalidInteraction",
    "ModalInfo",
    "NoResponse",
    "Perm",
    "RecordedRequest",
    "Violation",
    "ViolationsError",
    "patch_discord",
    "render_message",
    "render_result",
]
