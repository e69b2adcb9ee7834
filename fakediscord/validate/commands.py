"""Application command bodies: names, descriptions, options, choices, localizations, totals."""

from __future__ import annotations

import unicodedata
from typing import Any

from .common import (
    CHAT_INPUT_COMMANDS_MAX,
    CHOICE_NAME_MAX,
    CHOICE_STRING_VALUE_MAX,
    CHOICES_MAX,
    COMMAND_NAME_MAX,
    COMMAND_OPTIONS_MAX,
    COMMAND_TOTAL_CHARS_MAX,
    CONTEXT_MENU_COMMANDS_MAX,
    NUMBER_LIMIT,
    OPTION_CHANNEL,
    OPTION_GROUP,
    OPTION_INTEGER,
    OPTION_NUMBER,
    OPTION_STRING,
    OPTION_SUBCOMMAND,
    STRING_OPTION_LENGTH_MAX,
    VALID_OPTION_TYPES,
    Collector,
    Issue,
    join,
)


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


def check_name(name: Any, where: str, c: Collector, *, chat_input: bool = True, rule: str = "command.name") -> None:
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


def _check_localizations(obj: dict[str, Any], where: str, c: Collector, *, chat_input: bool) -> None:
    for locale, value in (obj.get("name_localizations") or {}).items():
        check_name(value, join(join(where, "name_localizations"), locale), c, chat_input=chat_input)
    for locale, value in (obj.get("description_localizations") or {}).items():
        c.length("command.description", join(join(where, "description_localizations"), locale), value, 1, 100)


def _check_option(opt: Any, where: str, c: Collector, *, depth: int) -> None:
    if not isinstance(opt, dict):
        c.add("option.shape", where, "must be an object")
        return
    t = opt.get("type")
    if t not in VALID_OPTION_TYPES:
        c.add("option.type", where, f"unknown option type {t!r}")
        return
    check_name(opt.get("name"), join(where, "name"), c, rule="option.name")
    c.length("option.description", join(where, "description"), opt.get("description"), 1, 100, optional=False)
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
                c.add("option.nesting", join(where, "options"), "a subcommand group needs subcommands")
            for i, kid in enumerate(kids):
                if isinstance(kid, dict) and kid.get("type") != OPTION_SUBCOMMAND:
                    c.add("option.nesting", join(join(where, "options"), i), "groups may only hold subcommands")
        else:
            for i, kid in enumerate(children or []):
                if isinstance(kid, dict) and kid.get("type") in (OPTION_SUBCOMMAND, OPTION_GROUP):
                    c.add("option.nesting", join(join(where, "options"), i), "subcommands cannot hold subcommands")
        _check_option_list(children or [], join(where, "options"), c, depth=depth + 1)
        for key in ("choices", "autocomplete", "min_value", "max_value", "min_length", "max_length"):
            if opt.get(key) is not None:
                c.add("option.field", join(where, key), f"not allowed on subcommands/groups (type {t})")
        return

    if children:
        c.add("option.field", join(where, "options"), "only subcommands and groups have options")

    choices = opt.get("choices")
    if choices is not None:
        if t not in (OPTION_STRING, OPTION_INTEGER, OPTION_NUMBER):
            c.add("option.choices", join(where, "choices"), f"choices only on string/integer/number options, not {t}")
        if len(choices) > CHOICES_MAX:
            c.add("option.choices", join(where, "choices"), f"{len(choices)} choices, at most {CHOICES_MAX}")
        for i, ch in enumerate(choices):
            check_choice(ch, t, join(join(where, "choices"), i), c)
        if opt.get("autocomplete"):
            c.add("option.autocomplete", where, "autocomplete cannot be combined with choices")
    if opt.get("autocomplete") and t not in (OPTION_STRING, OPTION_INTEGER, OPTION_NUMBER):
        c.add("option.autocomplete", where, f"autocomplete only on string/integer/number options, not {t}")

    lo, hi = opt.get("min_value"), opt.get("max_value")
    for key, v in (("min_value", lo), ("max_value", hi)):
        if v is None:
            continue
        if t not in (OPTION_INTEGER, OPTION_NUMBER):
            c.add("option.range", join(where, key), f"only on integer/number options, not {t}")
        elif not isinstance(v, (int, float)) or isinstance(v, bool) or abs(v) > NUMBER_LIMIT:
            c.add("option.range", join(where, key), f"{v!r} is not a number within ±2^53")
        elif t == OPTION_INTEGER and isinstance(v, float) and not v.is_integer():
            c.add("option.range", join(where, key), f"{v!r} is not an integer")
    if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and lo > hi:
        c.add("option.range", where, f"min_value {lo} > max_value {hi}")

    mlo, mhi = opt.get("min_length"), opt.get("max_length")
    for key, v, floor in (("min_length", mlo, 0), ("max_length", mhi, 1)):
        if v is None:
            continue
        if t != OPTION_STRING:
            c.add("option.length", join(where, key), f"only on string options, not {t}")
        elif not isinstance(v, int) or not floor <= v <= STRING_OPTION_LENGTH_MAX:
            c.add("option.length", join(where, key), f"{v!r} not within {floor}..{STRING_OPTION_LENGTH_MAX}")
    if isinstance(mlo, int) and isinstance(mhi, int) and mlo > mhi:
        c.add("option.length", where, f"min_length {mlo} > max_length {mhi}")

    if opt.get("channel_types") is not None and t != OPTION_CHANNEL:
        c.add("option.field", join(where, "channel_types"), "only on channel options")


def check_choice(ch: Any, opt_type: int, where: str, c: Collector) -> None:
    if not isinstance(ch, dict):
        c.add("choice.shape", where, "must be an object with name and value")
        return
    c.length("choice.name", join(where, "name"), ch.get("name"), 1, CHOICE_NAME_MAX, optional=False)
    for locale, value in (ch.get("name_localizations") or {}).items():
        c.length("choice.name", join(join(where, "name_localizations"), locale), value, 1, CHOICE_NAME_MAX)
    value = ch.get("value")
    if opt_type == OPTION_STRING:
        if not isinstance(value, str):
            c.add("choice.value", join(where, "value"), f"string option needs a string value, got {value!r}")
        elif len(value) > CHOICE_STRING_VALUE_MAX:
            c.add("choice.value", join(where, "value"), f"length {len(value)} > {CHOICE_STRING_VALUE_MAX}")
    elif opt_type in (OPTION_INTEGER, OPTION_NUMBER):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            c.add("choice.value", join(where, "value"), f"numeric option needs a number value, got {value!r}")
        elif opt_type == OPTION_INTEGER and isinstance(value, float) and not value.is_integer():
            c.add("choice.value", join(where, "value"), f"integer option needs an integer, got {value!r}")
        elif abs(value) > NUMBER_LIMIT:
            c.add("choice.value", join(where, "value"), f"{value!r} outside ±2^53")


def _check_option_list(options: list[Any], where: str, c: Collector, *, depth: int) -> None:
    if len(options) > COMMAND_OPTIONS_MAX:
        c.add("command.options", where, f"{len(options)} options, at most {COMMAND_OPTIONS_MAX}")
    names: set[Any] = set()
    seen_optional = False
    kinds = set()
    for i, opt in enumerate(options):
        w = join(where, i)
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
    c = Collector()
    if not isinstance(cmd, dict):
        c.add("command.shape", where, "must be an object")
        return c.issues
    ctype = cmd.get("type", 1) or 1
    chat = ctype == 1
    check_name(cmd.get("name"), join(where, "name"), c, chat_input=chat)
    _check_localizations(cmd, where, c, chat_input=chat)
    if chat:
        c.length("command.description", join(where, "description"), cmd.get("description"), 1, 100, optional=False)
        _check_option_list(cmd.get("options") or [], join(where, "options"), c, depth=0)
        total = _command_chars(cmd)
        if total > COMMAND_TOTAL_CHARS_MAX:
            c.add("command.size", where, f"{total} characters in names/descriptions/choices, at most 8000")
    else:
        if cmd.get("description"):
            c.add("command.description", join(where, "description"), "context menu commands have no description")
        if cmd.get("options"):
            c.add("command.options", join(where, "options"), "context menu commands have no options")
    perms = cmd.get("default_member_permissions")
    # Documented as a string bitfield; discord.py sends an integer, which Discord (and its
    # OpenAPI schema) accept too.
    if perms is not None and not (
        (isinstance(perms, str) and perms.isdigit())
        or (isinstance(perms, int) and not isinstance(perms, bool) and perms >= 0)
    ):
        c.add("command.permissions", join(where, "default_member_permissions"), f"must be a bitfield, got {perms!r}")
    return c.issues


def check_commands(commands: Any) -> list[Issue]:
    """A bulk-overwrite body (``PUT .../commands``)."""
    c = Collector()
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
