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
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
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


class _Collector:
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


def _join(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


# --------------------------------------------------------------------------- command names
def _name_char_ok(ch: str) -> bool:
    if ch in "-_":
        return True
    if unicodedata.category(ch)[0] in "LN":
        return True
    cp = ord(ch)
    # \p{sc=Deva} and \p{sc=Thai}: Devanagari (incl. extended blocks) and Thai, which also
    # carry combining marks that are not letters.
    return 0x0900 <= cp <= 0x097F or 0xA8E0 <= cp <= 0xA8FF or 0x11B00 <= cp <= 0x11B5F or 0x0E00 <= cp <= 0x0E7F


def check_name(name: Any, where: str, c: _Collector, *, chat_input: bool = True, rule: str = "command.name") -> None:
    """``^[-_\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$``, lower case where possible (chat input)."""
    if not isinstance(name, str):
        c.add(rule, where, f"must be a string, got {name!r}")
        return
    if not 1 <= len(name) <= COMMAND_NAME_MAX:
        c.add(rule, where, f"{name!r}: length {len(name)} not within 1..{COMMAND_NAME_MAX}")
        return
    if not chat_input:
        return
    bad = [ch for ch in name if not _name_char_ok(ch)]
    if bad:
        c.add(rule, where, f"{name!r} has characters not allowed in names: {''.join(sorted(set(bad)))!r}")
    if name != name.lower():
        c.add(rule, where, f"{name!r} must be lower case")


# ----------------------------------------------------------------------------- commands
def _command_chars(obj: dict[str, Any]) -> int:
    total = len(obj.get("name") or "") + len(obj.get("description") or "")
    for ch in obj.get("choices") or []:
        total += len(str(ch.get("name") or "")) + len(str(ch.get("value") or ""))
    for opt in obj.get("options") or []:
        if isinstance(opt, dict):
            total += _command_chars(opt)
    return total


def _check_localizations(obj: dict[str, Any], where: str, c: _Collector, *, chat_input: bool) -> None:
    for locale, value in (obj.get("name_localizations") or {}).items():
        check_name(value, _join(_join(where, "name_localizations"), locale), c, chat_input=chat_input)
    for locale, value in (obj.get("description_localizations") or {}).items():
        c.length("command.description", _join(_join(where, "description_localizations"), locale), value, 1, 100)


def _check_option(opt: Any, where: str, c: _Collector, *, depth: int) -> None:
    if not isinstance(opt, dict):
        c.add("option.shape", where, "must be an object")
        return
    t = opt.get("type")
    if t not in VALID_OPTION_TYPES:
        c.add("option.type", where, f"unknown option type {t!r}")
        return
    check_name(opt.get("name"), _join(where, "name"), c, rule="option.name")
    c.length("option.description", _join(where, "description"), opt.get("description"), 1, 100, optional=False)
    _check_localizations(opt, where, c, chat_input=True)

    children = opt.get("options")
    if t in (OPTION_SUBCOMMAND, OPTION_GROUP):
        if t == OPTION_GROUP and depth > 0:
            c.add("option.nesting", where, "a subcommand group can only be a top-level option")
        if t == OPTION_SUBCOMMAND and depth > 1:
            c.add("option.nesting", where, "subcommands nest at most inside one group")
        if t == OPTION_GROUP:
            kids = children or []
            if not kids:
                c.add("option.nesting", _join(where, "options"), "a subcommand group needs subcommands")
            for i, kid in enumerate(kids):
                if isinstance(kid, dict) and kid.get("type") != OPTION_SUBCOMMAND:
                    c.add("option.nesting", _join(_join(where, "options"), i), "groups may only hold subcommands")
        else:
            for i, kid in enumerate(children or []):
                if isinstance(kid, dict) and kid.get("type") in (OPTION_SUBCOMMAND, OPTION_GROUP):
                    c.add("option.nesting", _join(_join(where, "options"), i), "subcommands cannot hold subcommands")
        _check_option_list(children or [], _join(where, "options"), c, depth=depth + 1)
        for key in ("choices", "autocomplete", "min_value", "max_value", "min_length", "max_length"):
            if opt.get(key) is not None:
                c.add("option.field", _join(where, key), f"not allowed on subcommands/groups (type {t})")
        return

    if children:
        c.add("option.field", _join(where, "options"), "only subcommands and groups have options")

    choices = opt.get("choices")
    if choices is not None:
        if t not in (OPTION_STRING, OPTION_INTEGER, OPTION_NUMBER):
            c.add("option.choices", _join(where, "choices"), f"choices only on string/integer/number options, not {t}")
        if len(choices) > CHOICES_MAX:
            c.add("option.choices", _join(where, "choices"), f"{len(choices)} choices, at most {CHOICES_MAX}")
        for i, ch in enumerate(choices):
            _check_choice(ch, t, _join(_join(where, "choices"), i), c)
        if opt.get("autocomplete"):
            c.add("option.autocomplete", where, "autocomplete cannot be combined with choices")
    if opt.get("autocomplete") and t not in (OPTION_STRING, OPTION_INTEGER, OPTION_NUMBER):
        c.add("option.autocomplete", where, f"autocomplete only on string/integer/number options, not {t}")

    lo, hi = opt.get("min_value"), opt.get("max_value")
    for key, v in (("min_value", lo), ("max_value", hi)):
        if v is None:
            continue
        if t not in (OPTION_INTEGER, OPTION_NUMBER):
            c.add("option.range", _join(where, key), f"only on integer/number options, not {t}")
        elif not isinstance(v, (int, float)) or isinstance(v, bool) or abs(v) > NUMBER_LIMIT:
            c.add("option.range", _join(where, key), f"{v!r} is not a number within ±2^53")
        elif t == OPTION_INTEGER and isinstance(v, float) and not v.is_integer():
            c.add("option.range", _join(where, key), f"{v!r} is not an integer")
    if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and lo > hi:
        c.add("option.range", where, f"min_value {lo} > max_value {hi}")

    mlo, mhi = opt.get("min_length"), opt.get("max_length")
    for key, v, floor in (("min_length", mlo, 0), ("max_length", mhi, 1)):
        if v is None:
            continue
        if t != OPTION_STRING:
            c.add("option.length", _join(where, key), f"only on string options, not {t}")
        elif not isinstance(v, int) or not floor <= v <= STRING_OPTION_LENGTH_MAX:
            c.add("option.length", _join(where, key), f"{v!r} not within {floor}..{STRING_OPTION_LENGTH_MAX}")
    if isinstance(mlo, int) and isinstance(mhi, int) and mlo > mhi:
        c.add("option.length", where, f"min_length {mlo} > max_length {mhi}")

    if opt.get("channel_types") is not None and t != OPTION_CHANNEL:
        c.add("option.field", _join(where, "channel_types"), "only on channel options")


def _check_choice(ch: Any, opt_type: int, where: str, c: _Collector) -> None:
    if not isinstance(ch, dict):
        c.add("choice.shape", where, "must be an object with name and value")
        return
    c.length("choice.name", _join(where, "name"), ch.get("name"), 1, CHOICE_NAME_MAX, optional=False)
    for locale, value in (ch.get("name_localizations") or {}).items():
        c.length("choice.name", _join(_join(where, "name_localizations"), locale), value, 1, CHOICE_NAME_MAX)
    value = ch.get("value")
    if opt_type == OPTION_STRING:
        if not isinstance(value, str):
            c.add("choice.value", _join(where, "value"), f"string option needs a string value, got {value!r}")
        elif len(value) > CHOICE_STRING_VALUE_MAX:
            c.add("choice.value", _join(where, "value"), f"length {len(value)} > {CHOICE_STRING_VALUE_MAX}")
    elif opt_type in (OPTION_INTEGER, OPTION_NUMBER):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            c.add("choice.value", _join(where, "value"), f"numeric option needs a number value, got {value!r}")
        elif opt_type == OPTION_INTEGER and isinstance(value, float) and not value.is_integer():
            c.add("choice.value", _join(where, "value"), f"integer option needs an integer, got {value!r}")
        elif abs(value) > NUMBER_LIMIT:
            c.add("choice.value", _join(where, "value"), f"{value!r} outside ±2^53")


def _check_option_list(options: list[Any], where: str, c: _Collector, *, depth: int) -> None:
    if len(options) > COMMAND_OPTIONS_MAX:
        c.add("command.options", where, f"{len(options)} options, at most {COMMAND_OPTIONS_MAX}")
    names: set[Any] = set()
    seen_optional = False
    kinds = set()
    for i, opt in enumerate(options):
        w = _join(where, i)
        _check_option(opt, w, c, depth=depth)
        if not isinstance(opt, dict):
            continue
        name = opt.get("name")
        if name in names:
            c.add("option.name", w, f"duplicate option name {name!r}")
        names.add(name)
        is_sub = opt.get("type") in (OPTION_SUBCOMMAND, OPTION_GROUP)
        kinds.add(is_sub)
        if is_sub:
            continue
        if opt.get("required"):
            if seen_optional:
                c.add("option.order", w, f"required option {name!r} after an optional one")
        else:
            seen_optional = True
    if len(kinds) > 1:
        c.add("option.nesting", where, "subcommands/groups cannot be mixed with other options")


def check_command(cmd: Any, where: str = "") -> list[Issue]:
    c = _Collector()
    if not isinstance(cmd, dict):
        c.add("command.shape", where, "must be an object")
        return c.issues
    ctype = cmd.get("type", 1) or 1
    chat = ctype == 1
    check_name(cmd.get("name"), _join(where, "name"), c, chat_input=chat)
    _check_localizations(cmd, where, c, chat_input=chat)
    if chat:
        c.length("command.description", _join(where, "description"), cmd.get("description"), 1, 100, optional=False)
        _check_option_list(cmd.get("options") or [], _join(where, "options"), c, depth=0)
        total = _command_chars(cmd)
        if total > COMMAND_TOTAL_CHARS_MAX:
            c.add("command.size", where, f"{total} characters in names/descriptions/choices, at most 8000")
    else:
        if cmd.get("description"):
            c.add("command.description", _join(where, "description"), "context menu commands have no description")
        if cmd.get("options"):
            c.add("command.options", _join(where, "options"), "context menu commands have no options")
    perms = cmd.get("default_member_permissions")
    # Documented as a string bitfield; discord.py sends an integer, which Discord (and its
    # OpenAPI schema) accept too.
    if perms is not None and not (
        (isinstance(perms, str) and perms.isdigit())
        or (isinstance(perms, int) and not isinstance(perms, bool) and perms >= 0)
    ):
        c.add("command.permissions", _join(where, "default_member_permissions"), f"must be a bitfield, got {perms!r}")
    return c.issues


def check_commands(commands: Any) -> list[Issue]:
    """A bulk-overwrite body (``PUT .../commands``)."""
    c = _Collector()
    if not isinstance(commands, list):
        c.add("commands.shape", "", "bulk overwrite body must be a JSON array")
        return c.issues
    counts: dict[int, int] = {}
    seen: set[tuple[int, Any]] = set()
    for i, cmd in enumerate(commands):
        c.issues += check_command(cmd, f"[{i}]")
        if not isinstance(cmd, dict):
            continue
        t = cmd.get("type", 1) or 1
        counts[t] = counts.get(t, 0) + 1
        key = (t, cmd.get("name"))
        if key in seen:
            c.add("command.name", f"[{i}].name", f"duplicate command name {cmd.get('name')!r} for type {t}")
        seen.add(key)
    if counts.get(1, 0) > CHAT_INPUT_COMMANDS_MAX:
        c.add("commands.count", "", f"{counts[1]} chat input commands, at most {CHAT_INPUT_COMMANDS_MAX}")
    for t in (2, 3):
        if counts.get(t, 0) > CONTEXT_MENU_COMMANDS_MAX:
            c.add("commands.count", "", f"{counts[t]} type-{t} commands, at most {CONTEXT_MENU_COMMANDS_MAX}")
    return c.issues


# ----------------------------------------------------------------------------- messages
def _embed_chars(embed: dict[str, Any]) -> int:
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    for f in embed.get("fields") or []:
        if isinstance(f, dict):
            total += len(str(f.get("name") or "")) + len(str(f.get("value") or ""))
    return total


def check_embed(embed: Any, where: str, c: _Collector) -> None:
    if not isinstance(embed, dict):
        c.add("embed.shape", where, "must be an object")
        return
    c.length("embed.title", _join(where, "title"), embed.get("title"), 0, EMBED_TITLE_MAX)
    c.length("embed.description", _join(where, "description"), embed.get("description"), 0, EMBED_DESCRIPTION_MAX)
    fields = embed.get("fields") or []
    if len(fields) > EMBED_FIELDS_MAX:
        c.add("embed.fields", _join(where, "fields"), f"{len(fields)} fields, at most {EMBED_FIELDS_MAX}")
    for i, f in enumerate(fields):
        w = _join(_join(where, "fields"), i)
        if not isinstance(f, dict):
            c.add("embed.field", w, "must be an object")
            continue
        c.length("embed.field.name", _join(w, "name"), f.get("name"), 1, EMBED_FIELD_NAME_MAX, optional=False)
        c.length("embed.field.value", _join(w, "value"), f.get("value"), 1, EMBED_FIELD_VALUE_MAX, optional=False)
    footer = embed.get("footer")
    if footer is not None:
        c.length("embed.footer", _join(where, "footer.text"), footer.get("text"), 1, EMBED_FOOTER_MAX, optional=False)
    author = embed.get("author")
    if author is not None:
        c.length("embed.author", _join(where, "author.name"), author.get("name"), 1, EMBED_AUTHOR_MAX, optional=False)
    color = embed.get("color")
    if color is not None and (not isinstance(color, int) or not 0 <= color <= 0xFFFFFF):
        c.add("embed.color", _join(where, "color"), f"{color!r} is not an RGB integer")


def _check_button(b: dict[str, Any], where: str, c: _Collector) -> None:
    style = b.get("style")
    if style not in (1, 2, 3, 4, 5, 6):
        c.add("button.style", _join(where, "style"), f"unknown style {style!r}")
    if style == 5:
        if not b.get("url"):
            c.add("button.url", where, "link buttons need a url")
        else:
            c.length("button.url", _join(where, "url"), b.get("url"), 1, BUTTON_URL_MAX)
        if b.get("custom_id") is not None:
            c.add("button.custom_id", where, "link buttons cannot have a custom_id")
    elif style == 6:
        if not b.get("sku_id"):
            c.add("button.sku", where, "premium buttons need a sku_id")
        for key in ("custom_id", "label", "url", "emoji"):
            if b.get(key) is not None:
                c.add("button.field", _join(where, key), "premium buttons cannot have it")
    else:
        c.length("component.custom_id", _join(where, "custom_id"), b.get("custom_id"), 1, CUSTOM_ID_MAX, optional=False)
        if b.get("url") is not None:
            c.add("button.url", _join(where, "url"), "only link buttons have a url")
    c.length("button.label", _join(where, "label"), b.get("label"), 0, BUTTON_LABEL_MAX)
    if style != 6 and not b.get("label") and not b.get("emoji"):
        c.add("button.label", where, "a button needs a label or an emoji")


def _check_select(s: dict[str, Any], where: str, c: _Collector) -> None:
    t = s.get("type")
    c.length("component.custom_id", _join(where, "custom_id"), s.get("custom_id"), 1, CUSTOM_ID_MAX, optional=False)
    c.length("select.placeholder", _join(where, "placeholder"), s.get("placeholder"), 0, SELECT_PLACEHOLDER_MAX)
    lo = s.get("min_values", 1)
    hi = s.get("max_values", 1)
    if not isinstance(lo, int) or not 0 <= lo <= 25:
        c.add("select.values", _join(where, "min_values"), f"{lo!r} not within 0..25")
    if not isinstance(hi, int) or not 1 <= hi <= 25:
        c.add("select.values", _join(where, "max_values"), f"{hi!r} not within 1..25")
    if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
        c.add("select.values", where, f"min_values {lo} > max_values {hi}")
    if t == 3:
        options = s.get("options") or []
        if not 1 <= len(options) <= SELECT_OPTIONS_MAX:
            c.add("select.options", _join(where, "options"), f"{len(options)} options, need 1..{SELECT_OPTIONS_MAX}")
        if isinstance(hi, int) and options and hi > len(options):
            c.add("select.values", _join(where, "max_values"), f"max_values {hi} > {len(options)} options")
        values: set[Any] = set()
        defaults = 0
        for i, o in enumerate(options):
            w = _join(_join(where, "options"), i)
            if not isinstance(o, dict):
                c.add("select.option", w, "must be an object")
                continue
            c.length(
                "select.option.label", _join(w, "label"), o.get("label"), 1, SELECT_OPTION_TEXT_MAX, optional=False
            )
            c.length(
                "select.option.value", _join(w, "value"), o.get("value"), 1, SELECT_OPTION_TEXT_MAX, optional=False
            )
            c.length(
                "select.option.description", _join(w, "description"), o.get("description"), 0, SELECT_OPTION_TEXT_MAX
            )
            if o.get("value") in values:
                c.add("select.option.value", _join(w, "value"), f"duplicate value {o.get('value')!r}")
            values.add(o.get("value"))
            defaults += bool(o.get("default"))
        if isinstance(hi, int) and defaults > hi:
            c.add("select.values", where, f"{defaults} default options but max_values {hi}")
    else:
        if s.get("options"):
            c.add("select.options", _join(where, "options"), "only string selects have options")
        dv = s.get("default_values") or []
        if isinstance(hi, int) and len(dv) > hi:
            c.add("select.values", _join(where, "default_values"), f"{len(dv)} defaults but max_values {hi}")
        if s.get("channel_types") is not None and t != 8:
            c.add("select.field", _join(where, "channel_types"), "only on channel selects")


def check_message_components(components: Any, flags: int, where: str, c: _Collector) -> None:
    if components is None:
        return
    if not isinstance(components, list):
        c.add("components.shape", where, "must be an array")
        return
    custom_ids: dict[str, str] = {}
    v2 = bool(flags & IS_COMPONENTS_V2)

    def visit(comp: Any, w: str, parent: int | None) -> int:
        if not isinstance(comp, dict):
            c.add("component.shape", w, "must be an object")
            return 0
        t = comp.get("type")
        count = 1
        cid = comp.get("custom_id")
        if cid is not None:
            if cid in custom_ids:
                c.add(
                    "component.custom_id",
                    _join(w, "custom_id"),
                    f"duplicate custom_id {cid!r} (also at {custom_ids[cid]})",
                )
            custom_ids[cid] = w
        if t == 1:
            kids = comp.get("components") or []
            if parent not in (None, 17):
                c.add("component.nesting", w, "action rows go at the top level or in a container")
            buttons = [k for k in kids if isinstance(k, dict) and k.get("type") == 2]
            selects = [k for k in kids if isinstance(k, dict) and k.get("type") in SELECT_TYPES]
            if not kids:
                c.add("action_row.empty", w, "an action row needs 1..5 components")
            if len(buttons) > BUTTONS_PER_ROW_MAX:
                c.add("action_row.buttons", w, f"{len(buttons)} buttons in one row, at most {BUTTONS_PER_ROW_MAX}")
            if selects and len(kids) > 1:
                c.add("action_row.select", w, "a select menu must be alone in its action row")
            for i, k in enumerate(kids):
                kt = k.get("type") if isinstance(k, dict) else None
                if kt == 4:
                    c.add("component.type", _join(_join(w, "components"), i), "text inputs are only allowed in modals")
                elif kt not in (2, *SELECT_TYPES):
                    c.add("component.type", _join(_join(w, "components"), i), f"type {kt} not allowed in an action row")
                count += visit(k, _join(_join(w, "components"), i), 1)
        elif t == 2:
            _check_button(comp, w, c)
        elif t in SELECT_TYPES:
            _check_select(comp, w, c)
        elif t in (9, 10, 11, 12, 13, 14, 17):
            if not v2:
                c.add("component.v2", w, f"component type {t} needs the IS_COMPONENTS_V2 flag")
            for key in ("components", "items"):
                for i, k in enumerate(comp.get(key) or []):
                    if key == "components":
                        count += visit(k, _join(_join(w, key), i), t)
            if comp.get("accessory") is not None:
                count += visit(comp["accessory"], _join(w, "accessory"), t)
            if t == 9 and not 1 <= len(comp.get("components") or []) <= 3:
                c.add("section.components", w, "a section holds 1..3 text displays")
        else:
            c.add("component.type", w, f"component type {t!r} not allowed in messages")
        return count

    total = 0
    for i, comp in enumerate(components):
        w = _join(where, i)
        t = comp.get("type") if isinstance(comp, dict) else None
        if v2:
            if t not in V2_TOP_LEVEL:
                c.add("component.type", w, f"type {t!r} not allowed at the top level")
        elif t != 1:
            c.add("component.type", w, f"top-level message components must be action rows, got type {t!r}")
        total += visit(comp, w, None)
    if v2:
        if total > V2_COMPONENTS_MAX:
            c.add("components.count", where, f"{total} components, at most {V2_COMPONENTS_MAX}")
    elif len(components) > ACTION_ROWS_MAX:
        c.add("components.count", where, f"{len(components)} action rows, at most {ACTION_ROWS_MAX}")


def check_allowed_mentions(body: dict[str, Any], where: str, c: _Collector) -> None:
    """Project rule: every message is sent with ``AllowedMentions.none()``."""
    am = body.get("allowed_mentions")
    w = _join(where, "allowed_mentions")
    if am is None:
        c.add("allowed_mentions.missing", w, "absent: send every message with AllowedMentions.none()")
        return
    if not isinstance(am, dict):
        c.add("allowed_mentions.shape", w, "must be an object")
        return
    if am.get("parse") != []:
        c.add(
            "allowed_mentions.parse", _join(w, "parse"), f"must be [] (AllowedMentions.none()), got {am.get('parse')!r}"
        )
    for key in ("users", "roles"):
        if am.get(key):
            c.add("allowed_mentions.ping", _join(w, key), f"pings {key}: {am[key]!r}")
    if am.get("replied_user"):
        c.add("allowed_mentions.ping", _join(w, "replied_user"), "pings the replied-to user")


def check_uploads(sizes: list[int], where: str = "files", limit: int = UPLOAD_MAX) -> list[Issue]:
    """The files of one request: together within the upload limit."""
    c = _Collector()
    if sum(sizes) > limit:
        c.add("message.file_size", where, f"{sum(sizes)} bytes of files, at most {limit} (40005: entity too large)")
    return c.issues


def check_message(
    body: Any,
    where: str = "",
    *,
    files: int = 0,
    create: bool = True,
    require_no_mentions: bool = True,
) -> list[Issue]:
    """A message create/edit body: interaction response data, follow-up, webhook edit, channel message."""
    c = _Collector()
    if body is None:
        body = {}
    if not isinstance(body, dict):
        c.add("message.shape", where, "must be an object")
        return c.issues
    flags = body.get("flags") or 0
    if not isinstance(flags, int):
        c.add("message.flags", _join(where, "flags"), f"must be an integer, got {flags!r}")
        flags = 0
    elif flags & ~MESSAGE_FLAGS_ALLOWED:
        c.add("message.flags", _join(where, "flags"), f"flag bits {flags & ~MESSAGE_FLAGS_ALLOWED} cannot be set")
    content = body.get("content")
    c.length("message.content", _join(where, "content"), content, 0, MESSAGE_CONTENT_MAX)
    embeds = body.get("embeds")
    if embeds is not None:
        if not isinstance(embeds, list):
            c.add("message.embeds", _join(where, "embeds"), "must be an array")
            embeds = []
        if len(embeds) > EMBEDS_MAX:
            c.add("message.embeds", _join(where, "embeds"), f"{len(embeds)} embeds, at most {EMBEDS_MAX}")
        for i, e in enumerate(embeds):
            check_embed(e, _join(_join(where, "embeds"), i), c)
        total = sum(_embed_chars(e) for e in embeds if isinstance(e, dict))
        if total > EMBED_TOTAL_MAX:
            c.add("embed.total", _join(where, "embeds"), f"{total} characters across embeds, at most {EMBED_TOTAL_MAX}")
    if flags & IS_COMPONENTS_V2:
        if content:
            c.add("message.v2", _join(where, "content"), "content cannot be set with IS_COMPONENTS_V2")
        if embeds:
            c.add("message.v2", _join(where, "embeds"), "embeds cannot be set with IS_COMPONENTS_V2")
    check_message_components(body.get("components"), flags, _join(where, "components"), c)
    attachments = body.get("attachments")
    if attachments is not None:
        if len(attachments) > FILES_MAX:
            c.add(
                "message.attachments",
                _join(where, "attachments"),
                f"{len(attachments)} attachments, at most {FILES_MAX}",
            )
        for i, a in enumerate(attachments):
            if isinstance(a, dict):
                c.length(
                    "attachment.description",
                    _join(_join(where, "attachments"), i) + ".description",
                    a.get("description"),
                    0,
                    1024,
                )
    if files > FILES_MAX:
        c.add("message.files", where, f"{files} files, at most {FILES_MAX}")
    if create and not (
        content or embeds or body.get("components") or files or body.get("poll") or body.get("sticker_ids")
    ):
        c.add("message.empty", where, "cannot send an empty message (no content, embeds, components, files or poll)")
    if require_no_mentions:
        check_allowed_mentions(body, where, c)
    return c.issues


# -------------------------------------------------------------------------- modals
def _check_text_input(ti: dict[str, Any], where: str, c: _Collector, *, in_label: bool) -> None:
    c.length("component.custom_id", _join(where, "custom_id"), ti.get("custom_id"), 1, CUSTOM_ID_MAX, optional=False)
    if ti.get("style") not in (1, 2):
        c.add("text_input.style", _join(where, "style"), f"style must be 1 or 2, got {ti.get('style')!r}")
    if in_label:
        if ti.get("label") is not None:
            c.add(
                "text_input.label",
                _join(where, "label"),
                "a text input inside a label component cannot have its own label",
            )
    else:
        c.length("text_input.label", _join(where, "label"), ti.get("label"), 1, TEXT_INPUT_LABEL_MAX, optional=False)
    c.length(
        "text_input.placeholder", _join(where, "placeholder"), ti.get("placeholder"), 0, TEXT_INPUT_PLACEHOLDER_MAX
    )
    lo, hi = ti.get("min_length"), ti.get("max_length")
    if lo is not None and (not isinstance(lo, int) or not 0 <= lo <= TEXT_INPUT_MAX):
        c.add("text_input.length", _join(where, "min_length"), f"{lo!r} not within 0..{TEXT_INPUT_MAX}")
    if hi is not None and (not isinstance(hi, int) or not 1 <= hi <= TEXT_INPUT_MAX):
        c.add("text_input.length", _join(where, "max_length"), f"{hi!r} not within 1..{TEXT_INPUT_MAX}")
    if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
        c.add("text_input.length", where, f"min_length {lo} > max_length {hi}")
    value = ti.get("value")
    if value is not None:
        limit = hi if isinstance(hi, int) else TEXT_INPUT_MAX
        c.length("text_input.value", _join(where, "value"), value, 0, min(limit, TEXT_INPUT_MAX))


def check_modal(data: Any, where: str = "data") -> list[Issue]:
    c = _Collector()
    if not isinstance(data, dict):
        c.add("modal.shape", where, "modal data must be an object")
        return c.issues
    c.length("modal.title", _join(where, "title"), data.get("title"), 1, MODAL_TITLE_MAX, optional=False)
    c.length("modal.custom_id", _join(where, "custom_id"), data.get("custom_id"), 1, CUSTOM_ID_MAX, optional=False)
    comps = data.get("components") or []
    if not 1 <= len(comps) <= MODAL_COMPONENTS_MAX:
        c.add(
            "modal.components", _join(where, "components"), f"{len(comps)} components, need 1..{MODAL_COMPONENTS_MAX}"
        )
    ids: set[Any] = set()
    for i, comp in enumerate(comps):
        w = _join(_join(where, "components"), i)
        if not isinstance(comp, dict):
            c.add("component.shape", w, "must be an object")
            continue
        t = comp.get("type")
        inner: list[tuple[dict[str, Any], str, bool]] = []
        if t == 1:
            kids = comp.get("components") or []
            if len(kids) != 1:
                c.add("modal.action_row", w, f"an action row in a modal holds exactly one text input, got {len(kids)}")
            inner = [(k, _join(_join(w, "components"), j), False) for j, k in enumerate(kids)]
            for k, kw, _ in inner:
                if k.get("type") != 4:
                    c.add(
                        "component.type", kw, f"only text inputs go in a modal action row, got type {k.get('type')!r}"
                    )
        elif t == 18:
            c.length("label.label", _join(w, "label"), comp.get("label"), 1, TEXT_INPUT_LABEL_MAX, optional=False)
            c.length("label.description", _join(w, "description"), comp.get("description"), 1, LABEL_DESCRIPTION_MAX)
            child = comp.get("component")
            if not isinstance(child, dict):
                c.add("label.component", _join(w, "component"), "a label wraps exactly one component")
            else:
                if child.get("type") not in MODAL_LABEL_CHILDREN:
                    c.add("component.type", _join(w, "component"), f"type {child.get('type')!r} not allowed in a label")
                inner = [(child, _join(w, "component"), True)]
        elif t == 10:
            if not comp.get("content"):
                c.add("text_display.content", w, "text display needs content")
        else:
            c.add("component.type", w, f"type {t!r} not allowed at the top level of a modal")
        for k, kw, in_label in inner:
            cid = k.get("custom_id")
            if cid in ids:
                c.add("component.custom_id", kw, f"duplicate custom_id {cid!r}")
            ids.add(cid)
            if k.get("type") == 4:
                _check_text_input(k, kw, c, in_label=in_label)
            elif k.get("type") in SELECT_TYPES:
                _check_select(k, kw, c)
            elif k.get("type") is not None:
                c.length("component.custom_id", _join(kw, "custom_id"), cid, 1, CUSTOM_ID_MAX, optional=False)
    return c.issues


# --------------------------------------------------------------------- autocomplete
def check_autocomplete(data: Any, option_type: int | None, where: str = "data") -> list[Issue]:
    c = _Collector()
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
        c.add("autocomplete.shape", where, "autocomplete data needs a choices array")
        return c.issues
    choices = data["choices"]
    if len(choices) > CHOICES_MAX:
        c.add("autocomplete.choices", _join(where, "choices"), f"{len(choices)} choices, at most {CHOICES_MAX}")
    for i, ch in enumerate(choices):
        _check_choice(ch, option_type or OPTION_STRING, _join(_join(where, "choices"), i), c)
    return c.issues


# ------------------------------------------------------------------------ callbacks
def check_callback(
    body: Any,
    *,
    interaction_type: int,
    files: int = 0,
    option_type: int | None = None,
    from_component: bool = False,
    require_no_mentions: bool = True,
) -> list[Issue]:
    """An interaction callback body (``POST /interactions/{id}/{token}/callback``)."""
    c = _Collector()
    if not isinstance(body, dict) or not isinstance(body.get("type"), int):
        c.add("callback.shape", "", "callback body must be an object with an integer type")
        return c.issues
    t = body["type"]
    allowed = CALLBACKS_FOR_INTERACTION.get(interaction_type, set())
    if t not in allowed:
        c.add("callback.type", "type", f"callback type {t} is not valid for interaction type {interaction_type}")
    if interaction_type == 5 and t in (6, 7) and not from_component:
        c.add("callback.type", "type", "update-message callbacks need a modal opened from a component")
    data = body.get("data")
    if t == 4:
        c.issues += check_message(data, "data", files=files, require_no_mentions=require_no_mentions)
    elif t == 7:
        c.issues += check_message(data, "data", files=files, create=False, require_no_mentions=require_no_mentions)
    elif t == 5:
        if data and set(data) - {"flags"}:
            c.add("callback.data", "data", f"a deferred response takes only flags, got {sorted(data)}")
        if data and (data.get("flags") or 0) & ~(EPHEMERAL | SUPPRESS_NOTIFICATIONS):
            c.add("message.flags", "data.flags", "a deferred response only takes the EPHEMERAL flag")
    elif t == 6:
        if data:
            c.add("callback.data", "data", "DEFERRED_UPDATE_MESSAGE takes no data")
    elif t == 8:
        c.issues += check_autocomplete(data, option_type)
    elif t == 9:
        c.issues += check_modal(data)
    return c.issues


# ================================================================================ OpenAPI
OPENAPI_ENV = "LOREBOT_DISCORD_OPENAPI"
_OPENAPI_URI = "urn:discord-api-spec:openapi"


def openapi_path() -> Path | None:
    """Where Discord's OpenAPI document is, or None when it is not available."""
    env = os.environ.get(OPENAPI_ENV)
    if env is not None:
        return Path(env) if env and Path(env).is_file() else None
    repo_root = Path(__file__).resolve().parents[1]
    path = repo_root.parent / "shared" / "discord-api" / "openapi.json"
    return path if path.is_file() else None


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (_OPENAPI_URI + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else _rewrite_refs(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


def _exempt(path: list[Any], validator: str, instance: Any) -> bool:
    """Known places where the published schema is stricter than Discord (see module docstring)."""
    keys = [p for p in path if isinstance(p, str)]
    last = keys[-1] if keys else None
    if isinstance(instance, bool) or not isinstance(instance, (int, str)):
        return False
    if "attachments" in keys and last == "id" and isinstance(instance, int):
        return True  # {"id": 0} refers to files[0]
    if last == "default_member_permissions" and isinstance(instance, str) and instance.isdigit():
        return True  # the documented string form of the bitfield
    # allowed_mentions.users[i] / .roles[i] as integers
    return bool(path) and isinstance(path[-1], int) and last in ("users", "roles") and "allowed_mentions" in keys


class OpenAPIValidator:
    """Validates request bodies against Discord's OpenAPI document."""

    def __init__(self, path: Path) -> None:
        import jsonschema  # lazy: optional dependency
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        self._jsonschema = jsonschema
        with open(path, encoding="utf-8") as fh:
            self.doc: dict[str, Any] = json.load(fh)
        resource = Resource.from_contents(self.doc, default_specification=DRAFT202012)
        self._registry = Registry().with_resource(_OPENAPI_URI, resource)
        self._routes: list[tuple[re.Pattern[str], str, int]] = []
        for template in self.doc.get("paths", {}):
            params = template.count("{")
            regex = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
            self._routes.append((re.compile(regex), template, params))
        self._routes.sort(key=lambda r: r[2])  # literal segments (@original) win over {params}
        self._validators: dict[tuple[str, str], Any] = {}

    @classmethod
    def load(cls, path: Path | None = None) -> OpenAPIValidator | None:
        """The validator for ``path`` (default: :func:`openapi_path`), or None if unavailable."""
        path = path or openapi_path()
        if path is None:
            return None
        try:
            import jsonschema  # noqa: F401
        except ImportError:
            return None
        key = str(path)
        if key not in _CACHE:
            _CACHE[key] = cls(path)
        return _CACHE[key]

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        for regex, template, _ in self._routes:
            if regex.match(path):
                op = self.doc["paths"][template].get(method.lower())
                if op is not None:
                    return template, op
        return None

    def _validator(self, method: str, path: str) -> Any:
        found = self.operation(method, path)
        if found is None:
            return None
        template, op = found
        key = (method.upper(), template)
        if key not in self._validators:
            content = (op.get("requestBody") or {}).get("content") or {}
            schema = (content.get("application/json") or {}).get("schema")
            if schema is None:
                self._validators[key] = None
            else:
                cls = self._jsonschema.Draft202012Validator
                self._validators[key] = cls(_rewrite_refs(schema), registry=self._registry)
        return self._validators[key]

    def validate(self, method: str, path: str, body: Any) -> list[Issue]:
        """Problems with ``body`` for ``method path`` (path below ``/api/v10``)."""
        validator = self._validator(method, path)
        if validator is None or body is None:
            return []
        issues: list[Issue] = []
        for error in validator.iter_errors(body):
            for leaf in _leaves(error):
                if _exempt(list(leaf.absolute_path), leaf.validator, leaf.instance):
                    continue
                where = _format_path(leaf.absolute_path)
                issues.append(Issue("openapi", where, _describe(leaf)))
        return _dedupe(issues)


def _leaves(error: Any) -> list[Any]:
    """For anyOf/oneOf failures, the errors of the most plausible branch; else the error itself."""
    if not error.context:
        return [error]
    branches: dict[Any, list[Any]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    if not branches:
        return [error]

    def discriminator_mismatch(errs: list[Any]) -> bool:
        # A branch whose "type" const/enum (or JSON type) does not match is not the intended one.
        for e in errs:
            rel = list(e.relative_path)
            if rel == ["type"] and e.validator in ("enum", "const"):
                return True
            if not rel and e.validator in ("type", "const", "enum"):
                return True
        return False

    plausible = [errs for errs in branches.values() if not discriminator_mismatch(errs)]
    if not plausible:
        return [error]
    best = min(plausible, key=len)
    out: list[Any] = []
    for e in best:
        out += _leaves(e)
    return out


def _format_path(path: Any) -> str:
    out = ""
    for p in path:
        out = _join(out, p if isinstance(p, int) else str(p))
    return out


def _describe(error: Any) -> str:
    """A short message for a schema error (jsonschema's repeat the whole instance)."""
    v, limit, inst = error.validator, error.validator_value, error.instance
    if v in ("maxLength", "minLength") and isinstance(inst, str):
        return f"length {len(inst)} violates {v} {limit}"
    if v in ("maxItems", "minItems") and isinstance(inst, list):
        return f"{len(inst)} items violates {v} {limit}"
    if v in ("maxProperties", "minProperties") and isinstance(inst, dict):
        return f"{len(inst)} properties violates {v} {limit}"
    text = repr(inst)
    if len(text) > 60:
        text = text[:57] + "..."
    if v == "type":
        return f"{text} is not of type {limit}"
    if v == "required":
        return error.message if len(error.message) < 120 else f"missing required properties {limit}"
    if v in ("enum", "const"):
        return f"{text} is not one of {limit}"
    if v in ("minimum", "maximum"):
        return f"{text} violates {v} {limit}"
    if v in ("anyOf", "oneOf"):
        return f"{text} matches none of the allowed shapes"
    msg = str(error.message)
    return msg if len(msg) <= 200 else msg[:197] + "..."


def _dedupe(issues: list[Issue]) -> list[Issue]:
    seen: set[tuple[str, str]] = set()
    out = []
    for i in issues:
        if (i.where, i.message) not in seen:
            seen.add((i.where, i.message))
            out.append(i)
    return out


_CACHE: dict[str, OpenAPIValidator] = {}
