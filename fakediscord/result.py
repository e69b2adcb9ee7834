"""What the bot sent back: messages, files, modals, autocomplete choices, and their grouping per interaction."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .render import render_message, render_modal, render_result

EPHEMERAL = 1 << 6
IS_COMPONENTS_V2 = 1 << 15
LOADING = 1 << 7

CALLBACK_NAMES = {
    1: "PONG",
    4: "CHANNEL_MESSAGE_WITH_SOURCE",
    5: "DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE",
    6: "DEFERRED_UPDATE_MESSAGE",
    7: "UPDATE_MESSAGE",
    8: "APPLICATION_COMMAND_AUTOCOMPLETE_RESULT",
    9: "MODAL",
    10: "PREMIUM_REQUIRED",
    12: "LAUNCH_ACTIVITY",
}

INTERACTION_NAMES = {1: "PING", 2: "APPLICATION_COMMAND", 3: "MESSAGE_COMPONENT", 4: "AUTOCOMPLETE", 5: "MODAL_SUBMIT"}


@dataclass(frozen=True)
class Violation:
    """One broken rule in a request the bot sent."""

    request: str  # "PUT /applications/1/commands"
    rule: str  # short rule id, e.g. "embed.description.length" or "openapi"
    message: str  # human readable
    where: str = ""  # JSON path inside the body, e.g. "data.embeds[0].description"

    def __str__(self) -> str:
        loc = f" at {self.where}" if self.where else ""
        return f"{self.request}: [{self.rule}]{loc} {self.message}"


@dataclass
class RecordedRequest:
    """A request the bot made to the fake REST API."""

    method: str
    path: str  # path below /api/v10, e.g. "/interactions/1/tok/callback"
    query: dict[str, str]
    body: Any  # parsed JSON (payload_json for multipart), or None
    files: list[FileAttachment]
    status: int = 0
    response: Any = None
    known: bool = True

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


@dataclass
class FileAttachment:
    """A file the bot uploaded (multipart ``files[n]``), as stored on a message."""

    id: int
    filename: str
    data: bytes
    content_type: str | None = None
    description: str | None = None
    url: str = ""
    spoiler: bool = False

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url,
        }
        if self.content_type:
            data["content_type"] = self.content_type
        if self.description:
            data["description"] = self.description
        if self.spoiler:
            data["flags"] = 8
        return data


@dataclass
class Choice:
    """An autocomplete choice."""

    name: str
    value: str | int | float
    name_localizations: dict[str, str] | None = None


class ChoiceList(list[Any]):
    """The choices of an autocomplete answer; ``.result`` is the full InteractionResult."""

    result: InteractionResult

    @property
    def names(self) -> list[str]:
        return [c.name for c in self]

    @property
    def values(self) -> list[Any]:
        return [c.value for c in self]


def iter_components(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Yield every component in a tree (action rows, sections, containers, labels), depth first."""
    for comp in components or []:
        yield comp
        if "components" in comp:
            yield from iter_components(comp["components"])
        if "component" in comp:
            yield from iter_components([comp["component"]])
        if "accessory" in comp:
            yield from iter_components([comp["accessory"]])


SELECT_TYPES = (3, 5, 6, 7, 8)


@dataclass
class FakeMessage:
    """A message as the fake stores it (and as Discord would render it)."""

    id: int
    channel_id: int
    guild_id: int | None
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    attachments: list[FileAttachment] = field(default_factory=list)
    timestamp: str = ""
    edited_timestamp: str | None = None
    deleted: bool = False
    loading: bool = False  # a deferred "bot is thinking..." message not yet filled in
    message_type: int = 0
    interaction_id: int | None = None
    interaction_type: int | None = None
    interaction_user: dict[str, Any] | None = None
    author: dict[str, Any] | None = None
    application_id: int | None = None
    tts: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)  # raw bodies that created/edited it

    # ------------------------------------------------------------------ views
    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def embed(self) -> dict[str, Any] | None:
        return self.embeds[0] if self.embeds else None

    @property
    def all_components(self) -> list[dict[str, Any]]:
        return list(iter_components(self.components))

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return [c for c in self.all_components if c.get("type") == 2]

    @property
    def selects(self) -> list[dict[str, Any]]:
        return [c for c in self.all_components if c.get("type") in SELECT_TYPES]

    @property
    def files(self) -> dict[str, bytes]:
        return {a.filename: a.data for a in self.attachments}

    @property
    def text(self) -> str:
        return render_message(self)

    def find_button(self, custom_id: str | None = None, *, label: str | None = None) -> dict[str, Any]:
        return _find(self.buttons, "button", custom_id, label)

    def find_select(self, custom_id: str | None = None, *, placeholder: str | None = None) -> dict[str, Any]:
        return _find(self.selects, "select", custom_id, placeholder, attr="placeholder")

    def snapshot(self) -> FakeMessage:
        return copy.deepcopy(self)

    # -------------------------------------------------------------- payload
    def to_discord(self) -> dict[str, Any]:
        """The message object Discord returns / embeds in component interactions."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.message_type,
            "channel_id": str(self.channel_id),
            "content": self.content,
            "author": self.author or {},
            "attachments": [a.to_dict() for a in self.attachments],
            "embeds": [_with_embed_type(e) for e in self.embeds],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": self.tts,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
            "flags": self.flags | (LOADING if self.loading else 0),
            "components": copy.deepcopy(self.components),
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
            data["webhook_id"] = str(self.application_id)
        if self.interaction_id is not None:
            data["interaction_metadata"] = {
                "id": str(self.interaction_id),
                "type": self.interaction_type,
                "user": self.interaction_user,
                "authorizing_integration_owners": {},
            }
        return data


def _with_embed_type(embed: dict[str, Any]) -> dict[str, Any]:
    e = copy.deepcopy(embed)
    e.setdefault("type", "rich")
    e.setdefault("content_scan_version", 0)
    return e


def _find(
    items: list[dict[str, Any]], kind: str, custom_id: str | None, label: str | None, attr: str = "label"
) -> dict[str, Any]:
    if custom_id is not None:
        found = [c for c in items if c.get("custom_id") == custom_id]
    elif label is not None:
        found = [c for c in items if c.get(attr) == label]
    else:
        found = list(items)
    if len(found) != 1:
        have = [(c.get("custom_id"), c.get(attr)) for c in items]
        want = custom_id if custom_id is not None else label
        raise LookupError(f"expected exactly one {kind} matching {want!r}, found {len(found)}; the message has {have}")
    return found[0]


@dataclass
class ModalInfo:
    """A modal the bot opened (callback type 9)."""

    custom_id: str
    title: str
    components: list[dict[str, Any]]

    @property
    def inputs(self) -> list[dict[str, Any]]:
        """The interactive fields (text inputs, selects, file uploads, radios, checkboxes)."""
        return [c for c in iter_components(self.components) if c.get("type") not in (1, 10, 18)]

    @property
    def input_ids(self) -> list[str]:
        return [c["custom_id"] for c in self.inputs if "custom_id" in c]

    @property
    def text(self) -> str:
        return render_modal(self)


@dataclass
class InteractionResult:
    """Everything the bot did in answer to one interaction, captured when it went idle.

    Message fields (``content``, ``embeds``, ...) describe ``message``: the response message
    (for callback 4/5, after any edits to ``@original`` and the first follow-up that fills a
    deferred message), or the updated component message (for callback 6/7). The objects are
    snapshots taken when the interaction settled.
    """

    interaction: dict[str, Any]  # the INTERACTION_CREATE payload that was dispatched
    type: int | None = None  # callback type, None if the bot never (successfully) answered
    callback: dict[str, Any] | None = None  # raw callback body
    message: FakeMessage | None = None
    followups: list[FakeMessage] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)  # PATCH bodies sent to the original
    choices: list[Choice] | None = None
    modal: ModalInfo | None = None
    requests: list[RecordedRequest] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    rejected: list[RecordedRequest] = field(default_factory=list)  # requests answered with 4xx
    errors: list[str] = field(default_factory=list)  # exceptions the bot logged meanwhile
    original_deleted: bool = False
    timed_out: bool = False

    # ------------------------------------------------------------------ basics
    @property
    def interaction_id(self) -> int:
        return int(self.interaction["id"])

    @property
    def interaction_type(self) -> int:
        return int(self.interaction["type"])

    @property
    def type_name(self) -> str | None:
        return CALLBACK_NAMES.get(self.type) if self.type is not None else None

    @property
    def responded(self) -> bool:
        return self.type is not None

    @property
    def deferred(self) -> bool:
        return self.type in (5, 6)

    @property
    def data(self) -> dict[str, Any]:
        return (self.callback or {}).get("data") or {}

    # -------------------------------------------------------- primary message
    @property
    def content(self) -> str:
        return self.message.content if self.message else ""

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.message.embeds if self.message else []

    @property
    def embed(self) -> dict[str, Any] | None:
        return self.message.embed if self.message else None

    @property
    def components(self) -> list[dict[str, Any]]:
        return self.message.components if self.message else []

    @property
    def flags(self) -> int:
        return self.message.flags if self.message else int(self.data.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def attachments(self) -> list[FileAttachment]:
        return self.message.attachments if self.message else []

    @property
    def files(self) -> dict[str, bytes]:
        return self.message.files if self.message else {}

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return self.message.buttons if self.message else []

    @property
    def selects(self) -> list[dict[str, Any]]:
        return self.message.selects if self.message else []

    @property
    def messages(self) -> list[FakeMessage]:
        """The response message (if any) followed by every follow-up."""
        return ([self.message] if self.message else []) + [
            f for f in self.followups if not self.message or f.id != self.message.id
        ]

    @property
    def all_text(self) -> str:
        """Content, embed text and component labels of every message, joined: handy for ``in`` checks."""
        parts: list[str] = []
        for m in self.messages:
            parts.append(m.content)
            for e in m.embeds:
                parts += [
                    e.get("title") or "",
                    e.get("description") or "",
                    (e.get("author") or {}).get("name") or "",
                    (e.get("footer") or {}).get("text") or "",
                ]
                for f in e.get("fields") or []:
                    parts += [f.get("name") or "", f.get("value") or ""]
            for c in m.all_components:
                parts += [c.get("label") or "", c.get("content") or "", c.get("placeholder") or ""]
                for o in c.get("options") or []:
                    parts += [o.get("label") or "", o.get("description") or ""]
        return "\n".join(p for p in parts if p)

    @property
    def text(self) -> str:
        return render_result(self)

    def __str__(self) -> str:
        return self.text
