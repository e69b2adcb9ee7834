"""Builders for INTERACTION_CREATE payloads shaped like the ones Discord sends.

These are pure functions over the fake's world (guilds, members, registered commands); the
:class:`~fakediscord.server.FakeDiscord` methods ``slash``/``autocomplete``/``click``/``select``/
``submit_modal`` call them. They raise :class:`InvalidInteraction` for input a real Discord
client would never let a user send (unknown option, missing required option, value not among
the choices, disabled button, too many select values, ...).
"""

from __future__ import annotations

import secrets
from typing import Any

from .models import (
    DM,
    FakeAttachment,
    FakeChannel,
    FakeMember,
    FakeRole,
    FakeUser,
    snowflake,
)
from .result import SELECT_TYPES, FakeMessage, ModalInfo

OPTION_TYPE_NAMES = {
    1: "SUB_COMMAND",
    2: "SUB_COMMAND_GROUP",
    3: "STRING",
    4: "INTEGER",
    5: "BOOLEAN",
    6: "USER",
    7: "CHANNEL",
    8: "ROLE",
    9: "MENTIONABLE",
    10: "NUMBER",
    11: "ATTACHMENT",
}

ATTACHMENT_LIMITS = {0: 10 * 1024 * 1024, 1: 10 * 1024 * 1024, 2: 50 * 1024 * 1024, 3: 100 * 1024 * 1024}


class InvalidInteraction(ValueError):
    """The requested interaction is one Discord's client would not send."""


class CommandUnavailable(InvalidInteraction):
    """The user cannot see/use that command (``default_member_permissions``, contexts)."""


class Resolved:
    """Accumulates the ``resolved`` map of an interaction."""

    def __init__(self, channel_permissions: int) -> None:
        self.data: dict[str, dict[str, Any]] = {}
        self._perms = channel_permissions

    def _put(self, kind: str, key: int, value: dict[str, Any]) -> None:
        self.data.setdefault(kind, {})[str(key)] = value

    def user(self, who: FakeMember | FakeUser) -> str:
        if isinstance(who, FakeMember):
            self._put("users", who.id, who.user.to_dict())
            self._put("members", who.id, who.to_dict(with_user=False, permissions=True))
            return str(who.id)
        self._put("users", who.id, who.to_dict())
        return str(who.id)

    def channel(self, ch: FakeChannel) -> str:
        data: dict[str, Any] = {
            "id": str(ch.id),
            "name": ch.name,
            "type": ch.type,
            "permissions": str(self._perms),
            "flags": 0,
        }
        if ch.guild is not None:
            data["guild_id"] = str(ch.guild.id)
        if ch.parent is not None:
            data["parent_id"] = str(ch.parent.id)
        if ch.type in (0, 5):
            data.update(topic=ch.topic, nsfw=ch.nsfw, rate_limit_per_user=0, last_message_id=None)
        self._put("channels", ch.id, data)
        return str(ch.id)

    def role(self, role: FakeRole) -> str:
        self._put("roles", role.id, role.to_dict())
        return str(role.id)

    def attachment(self, att: FakeAttachment) -> str:
        self._put("attachments", att.id, att.to_dict())
        return str(att.id)


def new_token() -> str:
    return "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(120)


def base_payload(
    *,
    application_id: int,
    itype: int,
    data: dict[str, Any],
    user: FakeMember | FakeUser,
    channel: FakeChannel,
    app_permissions: int,
    locale: str | None = None,
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The common envelope of every interaction (guild or bot-DM context)."""
    payload: dict[str, Any] = {
        "id": str(snowflake()),
        "application_id": str(application_id),
        "type": itype,
        "data": data,
        "token": new_token(),
        "version": 1,
        "locale": locale or user.locale,
        "entitlements": [],
        "entitlement_sku_ids": [],
        "channel_id": str(channel.id),
    }
    if isinstance(user, FakeMember):
        guild = user.guild
        payload.update(
            guild_id=str(guild.id),
            guild=guild.partial(),
            guild_locale=guild.locale,
            member=user.to_dict(permissions=True),
            channel={**channel.to_dict(), "permissions": str(user.permissions)},
            app_permissions=str(app_permissions),
            authorizing_integration_owners={"0": str(guild.id)},
            context=0,
            attachment_size_limit=ATTACHMENT_LIMITS.get(guild.premium_tier, 10 * 1024 * 1024),
        )
    else:
        payload.update(
            user=user.to_dict(),
            channel=channel.to_dict(),
            app_permissions=str(app_permissions),
            authorizing_integration_owners={"0": "0"},
            context=1,
            attachment_size_limit=10 * 1024 * 1024,
        )
    if message is not None:
        payload["message"] = message
    return payload


# ------------------------------------------------------------------ application commands
def split_command_path(command: str) -> list[str]:
    parts = command.strip().lstrip("/").split()
    if not parts:
        raise InvalidInteraction("empty command name")
    return parts


def _option_names(defs: list[dict[str, Any]]) -> list[str]:
    return [d["name"] for d in defs]


def _find_def(defs: list[dict[str, Any]], name: str, where: str) -> dict[str, Any]:
    for d in defs:
        if d["name"] == name:
            return d
    raise InvalidInteraction(f"{where} has no option {name!r}; options: {_option_names(defs)}")


def _check_choices(d: dict[str, Any], value: Any, where: str) -> Any:
    choices = d.get("choices")
    if not choices:
        return value
    for ch in choices:
        if ch["value"] == value:
            return value
    for ch in choices:
        if ch["name"] == value:
            return ch["value"]
    raise InvalidInteraction(
        f"{where}: {value!r} is not one of the choices {[(c['name'], c['value']) for c in choices]}"
    )


def convert_value(d: dict[str, Any], value: Any, resolved: Resolved, where: str, *, raw: bool = False) -> Any:
    """Turn a Python value into the option ``value`` Discord would send for option ``d``."""
    t = d["type"]
    if raw:  # the focused option of an autocomplete interaction: whatever the user typed so far
        return value if isinstance(value, str) else str(value)
    if t == 3:
        if not isinstance(value, str):
            raise InvalidInteraction(f"{where}: STRING option needs a str, got {value!r}")
        value = _check_choices(d, value, where)
        lo, hi = d.get("min_length"), d.get("max_length")
        if (lo is not None and len(value) < lo) or (hi is not None and len(value) > hi):
            raise InvalidInteraction(f"{where}: length {len(value)} outside {lo}..{hi}")
        return value
    if t in (4, 10):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            value = _check_choices(d, value, where) if d.get("choices") else value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InvalidInteraction(f"{where}: {OPTION_TYPE_NAMES[t]} option needs a number, got {value!r}")
        if t == 4 and isinstance(value, float):
            if not value.is_integer():
                raise InvalidInteraction(f"{where}: INTEGER option needs an int, got {value!r}")
            value = int(value)
        value = _check_choices(d, value, where)
        lo, hi = d.get("min_value"), d.get("max_value")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise InvalidInteraction(f"{where}: {value} outside {lo}..{hi}")
        return value
    if t == 5:
        if not isinstance(value, bool):
            raise InvalidInteraction(f"{where}: BOOLEAN option needs a bool, got {value!r}")
        return value
    if t == 6:
        if not isinstance(value, (FakeMember, FakeUser)):
            raise InvalidInteraction(f"{where}: USER option needs a FakeMember/FakeUser, got {value!r}")
        return resolved.user(value)
    if t == 7:
        if not isinstance(value, FakeChannel):
            raise InvalidInteraction(f"{where}: CHANNEL option needs a FakeChannel, got {value!r}")
        allowed = d.get("channel_types")
        if allowed and value.type not in allowed:
            raise InvalidInteraction(f"{where}: channel type {value.type} not in {allowed}")
        return resolved.channel(value)
    if t == 8:
        if not isinstance(value, FakeRole):
            raise InvalidInteraction(f"{where}: ROLE option needs a FakeRole, got {value!r}")
        return resolved.role(value)
    if t == 9:
        if isinstance(value, FakeRole):
            return resolved.role(value)
        if isinstance(value, (FakeMember, FakeUser)):
            return resolved.user(value)
        raise InvalidInteraction(f"{where}: MENTIONABLE option needs a member, user or role, got {value!r}")
    if t == 11:
        if not isinstance(value, FakeAttachment):
            raise InvalidInteraction(f"{where}: ATTACHMENT option needs fake.attachment(...), got {value!r}")
        return resolved.attachment(value)
    raise InvalidInteraction(f"{where}: unsupported option type {t}")


def build_options(
    defs: list[dict[str, Any]],
    values: dict[str, Any],
    path: list[str],
    resolved: Resolved,
    where: str,
    *,
    focused: str | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Build the ``options`` array for one level; returns (options, focused option definition)."""
    subs = [d for d in defs if d["type"] in (1, 2)]
    if subs:
        if path:
            name, rest, inner = path[0], path[1:], values
        else:
            keys = [k for k in values if any(s["name"] == k for s in subs)]
            if len(keys) != 1 or len(values) != 1:
                raise InvalidInteraction(
                    f"{where} needs exactly one subcommand (as a nested dict or 'cmd sub' path); "
                    f"choose from {_option_names(subs)}"
                )
            name, rest, inner = keys[0], [], values[keys[0]] or {}
        d = _find_def(subs, name, where)
        if not isinstance(inner, dict):
            raise InvalidInteraction(f"{where} {name}: subcommand options must be a dict, got {inner!r}")
        kids, fdef = build_options(d.get("options") or [], inner, rest, resolved, f"{where} {name}", focused=focused)
        return [{"type": d["type"], "name": name, "options": kids}], fdef
    if path:
        raise InvalidInteraction(f"{where} has no subcommand {path[0]!r}")
    out: list[dict[str, Any]] = []
    fdef = None
    given = dict(values)
    if focused is not None and focused not in given:
        given[focused] = ""
    for key in given:
        _find_def(defs, key, where)
    for d in defs:
        if d["name"] not in given:
            if d.get("required") and focused is None:
                raise InvalidInteraction(f"{where}: required option {d['name']!r} is missing")
            continue
        is_focused = d["name"] == focused
        if is_focused:
            if not d.get("autocomplete"):
                raise InvalidInteraction(f"{where}: option {d['name']!r} has no autocomplete")
            fdef = d
        value = convert_value(d, given[d["name"]], resolved, f"{where} {d['name']}", raw=is_focused)
        opt: dict[str, Any] = {"type": d["type"], "name": d["name"], "value": value}
        if is_focused:
            opt["focused"] = True
        out.append(opt)
    return out, fdef


def command_data(
    command: dict[str, Any],
    values: dict[str, Any] | None,
    path: list[str],
    resolved: Resolved,
    *,
    focused: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The ``data`` of an APPLICATION_COMMAND / AUTOCOMPLETE interaction."""
    options, fdef = build_options(
        command.get("options") or [], values or {}, path, resolved, f"/{command['name']}", focused=focused
    )
    data: dict[str, Any] = {
        "id": str(command["id"]),
        "name": command["name"],
        "type": command.get("type", 1),
    }
    if options:
        data["options"] = options
    if resolved.data:
        data["resolved"] = resolved.data
    if command.get("guild_id"):
        data["guild_id"] = str(command["guild_id"])
    if focused is not None and fdef is None:
        raise InvalidInteraction(f"/{command['name']}: focused option {focused!r} not found")
    return data, fdef


def check_command_access(command: dict[str, Any], user: FakeMember | FakeUser, channel: FakeChannel) -> None:
    """Raise CommandUnavailable if Discord would hide ``command`` from ``user`` here."""
    in_dm = channel.type == DM
    contexts = command.get("contexts")
    if contexts is not None and (1 if in_dm else 0) not in contexts:
        raise CommandUnavailable(f"/{command['name']} is not available in this context (contexts={contexts})")
    if in_dm and command.get("dm_permission") is False:
        raise CommandUnavailable(f"/{command['name']} is not available in DMs")
    perms = command.get("default_member_permissions")
    if perms is not None and isinstance(user, FakeMember) and not in_dm:
        need = int(perms)
        have = user.permissions
        if (need == 0 and not user.has(1 << 3)) or (have & need) != need:
            raise CommandUnavailable(
                f"/{command['name']} requires permissions {need} (default_member_permissions); "
                f"{user.name} has {have}. Pass check_permissions=False to simulate a server override."
            )


# ------------------------------------------------------------------------ components
def component_data(
    message: FakeMessage,
    component: dict[str, Any],
    values: list[Any] | None,
    resolved: Resolved,
) -> dict[str, Any]:
    t = component["type"]
    data: dict[str, Any] = {"custom_id": component["custom_id"], "component_type": t}
    if component.get("id") is not None:
        data["id"] = component["id"]
    if t == 2:
        return data
    data["values"] = select_values(component, values or [], resolved, f"select {component['custom_id']!r}")
    if resolved.data:
        data["resolved"] = resolved.data
    return data


def select_values(component: dict[str, Any], values: list[Any], resolved: Resolved, where: str) -> list[str]:
    t = component["type"]
    lo = component.get("min_values", 1)
    hi = component.get("max_values", 1)
    if not lo <= len(values) <= hi:
        raise InvalidInteraction(f"{where}: {len(values)} values, must pick {lo}..{hi}")
    if t == 3:
        allowed = [o["value"] for o in component.get("options") or []]
        labels = {o["label"]: o["value"] for o in component.get("options") or []}
        out = []
        for v in values:
            if v in allowed:
                out.append(v)
            elif v in labels:
                out.append(labels[v])
            else:
                raise InvalidInteraction(f"{where}: {v!r} is not an option; options: {allowed}")
        return out
    out = []
    for v in values:
        if t == 5 and isinstance(v, (FakeMember, FakeUser)):
            out.append(resolved.user(v))
        elif t == 6 and isinstance(v, FakeRole):
            out.append(resolved.role(v))
        elif t == 7 and isinstance(v, (FakeMember, FakeUser, FakeRole)):
            out.append(resolved.role(v) if isinstance(v, FakeRole) else resolved.user(v))
        elif t == 8 and isinstance(v, FakeChannel):
            types = component.get("channel_types")
            if types and v.type not in types:
                raise InvalidInteraction(f"{where}: channel type {v.type} not in {types}")
            out.append(resolved.channel(v))
        else:
            raise InvalidInteraction(f"{where}: value {v!r} does not fit a type-{t} select")
    return out


# ----------------------------------------------------------------------------- modals
def modal_components(modal: ModalInfo, values: dict[str, Any], resolved: Resolved) -> list[dict[str, Any]]:
    """The submitted ``components`` of a MODAL_SUBMIT, mirroring the modal's layout."""
    unknown = set(values) - set(modal.input_ids)
    if unknown:
        raise InvalidInteraction(
            f"modal {modal.custom_id!r} has no inputs {sorted(unknown)}; inputs: {modal.input_ids}"
        )
    counter = iter(range(1, 1000))

    def submit(comp: dict[str, Any]) -> dict[str, Any]:
        t = comp["type"]
        cid = comp.get("custom_id")
        out: dict[str, Any] = {"type": t, "id": comp.get("id") or next(counter)}
        if cid is not None:
            out["custom_id"] = cid
        where = f"modal input {cid!r}"
        given = values.get(cid) if cid is not None else None
        if t == 4:
            value = given if given is not None else (comp.get("value") or "")
            if not isinstance(value, str):
                raise InvalidInteraction(f"{where}: text input needs a str, got {value!r}")
            required = comp.get("required", True)
            lo, hi = comp.get("min_length"), comp.get("max_length", 4000)
            if required and not value:
                raise InvalidInteraction(f"{where} is required")
            if value and ((lo is not None and len(value) < lo) or (hi is not None and len(value) > hi)):
                raise InvalidInteraction(f"{where}: length {len(value)} outside {lo}..{hi}")
            out["value"] = value
        elif t in SELECT_TYPES:
            vals = given if given is not None else []
            if not isinstance(vals, (list, tuple)):
                vals = [vals]
            required = comp.get("required", True)
            if vals or required:
                out["values"] = select_values(comp, list(vals), resolved, where)
            else:
                out["values"] = []
        elif t == 19:
            files = given if given is not None else []
            if not isinstance(files, (list, tuple)):
                files = [files]
            lo, hi = comp.get("min_values", 1), comp.get("max_values", 1)
            if comp.get("required", True) and not lo <= len(files) <= hi:
                raise InvalidInteraction(f"{where}: {len(files)} files, must upload {lo}..{hi}")
            out["values"] = [resolved.attachment(f) for f in files]
        elif t == 21:
            out["value"] = given
        elif t == 22:
            out["values"] = list(given or [])
        elif t == 23:
            out["value"] = bool(given)
        elif t == 1:
            out["components"] = [submit(k) for k in comp.get("components", [])]
        elif t == 18:
            out["component"] = submit(comp["component"])
        return out

    return [submit(c) for c in modal.components]
