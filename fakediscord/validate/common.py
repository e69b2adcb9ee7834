"""Discord's documented limits and shapes, and the :class:`Issue` every check returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# --------------------------------------------------------------------------------------- limits
MESSAGE_CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000
FILES_MAX = 10
#: What a bot may upload in one request to a server without boosts (Discord answers 40005 beyond it).
UPLOAD_MAX = 10 * 1024 * 1024
ACTION_ROWS_MAX = 5
BUTTONS_PER_ROW_MAX = 5
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
BUTTON_URL_MAX = 512
SELECT_OPTIONS_MAX = 25
SELECT_OPTION_TEXT_MAX = 100
SELECT_PLACEHOLDER_MAX = 150
V2_COMPONENTS_MAX = 40
MODAL_TITLE_MAX = 45
MODAL_COMPONENTS_MAX = 5
TEXT_INPUT_LABEL_MAX = 45
TEXT_INPUT_MAX = 4000
TEXT_INPUT_PLACEHOLDER_MAX = 100
LABEL_DESCRIPTION_MAX = 100
COMMAND_NAME_MAX = 32
COMMAND_DESCRIPTION_MAX = 100
COMMAND_OPTIONS_MAX = 25
CHOICES_MAX = 25
CHOICE_NAME_MAX = 100
CHOICE_STRING_VALUE_MAX = 100
COMMAND_TOTAL_CHARS_MAX = 8000
CHAT_INPUT_COMMANDS_MAX = 100
CONTEXT_MENU_COMMANDS_MAX = 15
NUMBER_LIMIT = 2**53
STRING_OPTION_LENGTH_MAX = 6000

EPHEMERAL = 1 << 6
SUPPRESS_EMBEDS = 1 << 2
SUPPRESS_NOTIFICATIONS = 1 << 12
IS_COMPONENTS_V2 = 1 << 15
MESSAGE_FLAGS_ALLOWED = EPHEMERAL | SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2

# Callback types allowed for each interaction type (receiving-and-responding docs).
CALLBACKS_FOR_INTERACTION = {
    2: {4, 5, 9, 10, 12},  # APPLICATION_COMMAND
    3: {4, 5, 6, 7, 9, 10, 12},  # MESSAGE_COMPONENT
    4: {8},  # APPLICATION_COMMAND_AUTOCOMPLETE
    5: {4, 5, 6, 7, 10},  # MODAL_SUBMIT (6/7 only when the modal came from a component)
}

OPTION_SUBCOMMAND = 1
OPTION_GROUP = 2
OPTION_STRING = 3
OPTION_INTEGER = 4
OPTION_NUMBER = 10
OPTION_CHANNEL = 7
VALID_OPTION_TYPES = set(range(1, 12))

MODAL_LABEL_CHILDREN = {3, 4, 5, 6, 7, 8, 19, 21, 22, 23}
V2_TOP_LEVEL = {1, 9, 10, 12, 13, 14, 17}
SELECT_TYPES = {3, 5, 6, 7, 8}


@dataclass(frozen=True)
class Issue:
    rule: str
    where: str
    message: str


class Collector:
    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def add(self, rule: str, where: str, message: str) -> None:
        self.issues.append(Issue(rule, where, message))

    def length(self, rule: str, where: str, value: Any, lo: int, hi: int, *, optional: bool = True) -> None:
        if value is None:
            if not optional:
                self.add(rule, where, "is required")
            return
        if not isinstance(value, str):
            self.add(rule, where, f"must be a string, got {type(value).__name__}")
            return
        if not lo <= len(value) <= hi:
            self.add(rule, where, f"length {len(value)} not within {lo}..{hi}")


def join(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key
