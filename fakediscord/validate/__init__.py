"""Checks of every request body the bot sends, against Discord's documented limits and shapes.

Two layers:

1. Hand-written rules taken from Discord's developer documentation (application commands,
   receiving and responding to interactions, message/embed limits, component reference),
   plus one project rule: every message body must carry ``allowed_mentions`` with an empty
   ``parse`` list and no user/role/replied-user pings (``discord.AllowedMentions.none()``).
   The ``check_*`` functions return lists of :class:`Issue`; they never raise.

2. Discord's published OpenAPI description (``discord/discord-api-spec``), when the file is
   present: ``../shared/discord-api/openapi.json`` next to the repository (override with the
   environment variable ``LOREBOT_DISCORD_OPENAPI``; set it to an empty string to disable).
   The request body is validated with ``jsonschema`` against the operation found by path and
   method; multipart bodies are validated through their ``payload_json`` part. ``jsonschema``
   is imported lazily and the layer is skipped when it is not installed. The file is never
   copied into the repository.

   Exemptions, where the published schema is stricter than what Discord accepts from
   discord.py (each one is a shape discord.py has sent for years against the real API):

   * ``attachments[].id`` -- discord.py numbers new uploads with integers (``{"id": 0}``) that
     refer to ``files[0]``; the schema only allows snowflake strings.
   * ``default_member_permissions`` -- Discord's own docs show the bitfield as a string
     (``"32"``); the schema only allows integers (which is what discord.py sends).
   * ``allowed_mentions.users`` / ``allowed_mentions.roles`` items -- discord.py sends ids as
     integers; the schema says snowflake strings.
   * command option ``choices[].value`` for INTEGER/NUMBER options given as numbers is fine;
     nothing to exempt, noted because string choices are limited to 100 characters by the docs
     (stricter than the schema's 6000, so the hand-written rule checks that).

The rules live in one module per kind of body: :mod:`.commands`, :mod:`.messages`,
:mod:`.callbacks` (interaction callbacks, modals, autocomplete), :mod:`.openapi`; the limits and
:class:`Issue` in :mod:`.common`. Every public name is importable from this package.
"""

from __future__ import annotations

from .callbacks import (
    check_autocomplete,
    check_callback,
    check_modal,
)
from .commands import (
    check_choice,
    check_command,
    check_commands,
    check_name,
)
from .common import (
    ACTION_ROWS_MAX,
    BUTTON_LABEL_MAX,
    BUTTON_URL_MAX,
    BUTTONS_PER_ROW_MAX,
    CALLBACKS_FOR_INTERACTION,
    CHAT_INPUT_COMMANDS_MAX,
    CHOICE_NAME_MAX,
    CHOICE_STRING_VALUE_MAX,
    CHOICES_MAX,
    COMMAND_DESCRIPTION_MAX,
    COMMAND_NAME_MAX,
    COMMAND_OPTIONS_MAX,
    COMMAND_TOTAL_CHARS_MAX,
    CONTEXT_MENU_COMMANDS_MAX,
    CUSTOM_ID_MAX,
    EMBED_AUTHOR_MAX,
    EMBED_DESCRIPTION_MAX,
    EMBED_FIELD_NAME_MAX,
    EMBED_FIELD_VALUE_MAX,
    EMBED_FIELDS_MAX,
    EMBED_FOOTER_MAX,
    EMBED_TITLE_MAX,
    EMBED_TOTAL_MAX,
    EMBEDS_MAX,
    EPHEMERAL,
    FILES_MAX,
    IS_COMPONENTS_V2,
    LABEL_DESCRIPTION_MAX,
    MESSAGE_CONTENT_MAX,
    MESSAGE_FLAGS_ALLOWED,
    MODAL_COMPONENTS_MAX,
    MODAL_LABEL_CHILDREN,
    MODAL_TITLE_MAX,
    NUMBER_LIMIT,
    OPTION_CHANNEL,
    OPTION_GROUP,
    OPTION_INTEGER,
    OPTION_NUMBER,
    OPTION_STRING,
    OPTION_SUBCOMMAND,
    SELECT_OPTION_TEXT_MAX,
    SELECT_OPTIONS_MAX,
    SELECT_PLACEHOLDER_MAX,
    SELECT_TYPES,
    STRING_OPTION_LENGTH_MAX,
    SUPPRESS_EMBEDS,
    SUPPRESS_NOTIFICATIONS,
    TEXT_INPUT_LABEL_MAX,
    TEXT_INPUT_MAX,
    TEXT_INPUT_PLACEHOLDER_MAX,
    UPLOAD_MAX,
    V2_COMPONENTS_MAX,
    V2_TOP_LEVEL,
    VALID_OPTION_TYPES,
    Collector,
    Issue,
    join,
)
from .messages import (
    check_allowed_mentions,
    check_embed,
    check_message,
    check_message_components,
    check_select,
    check_uploads,
)
from .openapi import (
    OPENAPI_ENV,
    OpenAPIValidator,
    openapi_path,
)

__all__ = [
    "ACTION_ROWS_MAX",
    "BUTTONS_PER_ROW_MAX",
    "BUTTON_LABEL_MAX",
    "BUTTON_URL_MAX",
    "CALLBACKS_FOR_INTERACTION",
    "CHAT_INPUT_COMMANDS_MAX",
    "CHOICES_MAX",
    "CHOICE_NAME_MAX",
    "CHOICE_STRING_VALUE_MAX",
    "COMMAND_DESCRIPTION_MAX",
    "COMMAND_NAME_MAX",
    "COMMAND_OPTIONS_MAX",
    "COMMAND_TOTAL_CHARS_MAX",
    "CONTEXT_MENU_COMMANDS_MAX",
    "CUSTOM_ID_MAX",
    "EMBEDS_MAX",
    "EMBED_AUTHOR_MAX",
    "EMBED_DESCRIPTION_MAX",
    "EMBED_FIELDS_MAX",
    "EMBED_FIELD_NAME_MAX",
    "EMBED_FIELD_VALUE_MAX",
    "EMBED_FOOTER_MAX",
    "EMBED_TITLE_MAX",
    "EMBED_TOTAL_MAX",
    "EPHEMERAL",
    "FILES_MAX",
    "IS_COMPONENTS_V2",
    "LABEL_DESCRIPTION_MAX",
    "MESSAGE_CONTENT_MAX",
    "MESSAGE_FLAGS_ALLOWED",
    "MODAL_COMPONENTS_MAX",
    "MODAL_LABEL_CHILDREN",
    "MODAL_TITLE_MAX",
    "NUMBER_LIMIT",
    "OPENAPI_ENV",
    "OPTION_CHANNEL",
    "OPTION_GROUP",
    "OPTION_INTEGER",
    "OPTION_NUMBER",
    "OPTION_STRING",
    "OPTION_SUBCOMMAND",
    "SELECT_OPTIONS_MAX",
    "SELECT_OPTION_TEXT_MAX",
    "SELECT_PLACEHOLDER_MAX",
    "SELECT_TYPES",
    "STRING_OPTION_LENGTH_MAX",
    "SUPPRESS_EMBEDS",
    "SUPPRESS_NOTIFICATIONS",
    "TEXT_INPUT_LABEL_MAX",
    "TEXT_INPUT_MAX",
    "TEXT_INPUT_PLACEHOLDER_MAX",
    "UPLOAD_MAX",
    "V2_COMPONENTS_MAX",
    "V2_TOP_LEVEL",
    "VALID_OPTION_TYPES",
    "Collector",
    "Issue",
    "OpenAPIValidator",
    "check_allowed_mentions",
    "check_autocomplete",
    "check_callback",
    "check_choice",
    "check_command",
    "check_commands",
    "check_embed",
    "check_message",
    "check_message_components",
    "check_modal",
    "check_name",
    "check_select",
    "check_uploads",
    "join",
    "openapi_path",
]
