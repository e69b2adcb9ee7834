"""Message bodies: content, embeds, components (v1 and v2), allowed mentions, flags, uploads."""

from __future__ import annotations

from typing import Any

from .common import (
    ACTION_ROWS_MAX,
    BUTTON_LABEL_MAX,
    BUTTON_URL_MAX,
    BUTTONS_PER_ROW_MAX,
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
    FILES_MAX,
    IS_COMPONENTS_V2,
    MESSAGE_CONTENT_MAX,
    MESSAGE_FLAGS_ALLOWED,
    SELECT_OPTION_TEXT_MAX,
    SELECT_OPTIONS_MAX,
    SELECT_PLACEHOLDER_MAX,
    SELECT_TYPES,
    UPLOAD_MAX,
    V2_COMPONENTS_MAX,
    V2_TOP_LEVEL,
    Collector,
    Issue,
    join,
)


def _embed_chars(embed: dict[str, Any]) -> int:
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    for f in embed.get("fields") or []:
        if isinstance(f, dict):
            total += len(str(f.get("name") or "")) + len(str(f.get("value") or ""))
    return total


def check_embed(embed: Any, where: str, c: Collector) -> None:
    if not isinstance(embed, dict):
        c.add("embed.shape", where, "must be an object")
        return
    c.length("embed.title", join(where, "title"), embed.get("title"), 0, EMBED_TITLE_MAX)
    c.length("embed.description", join(where, "description"), embed.get("description"), 0, EMBED_DESCRIPTION_MAX)
    fields = embed.get("fields") or []
    if len(fields) > EMBED_FIELDS_MAX:
        c.add("embed.fields", join(where, "fields"), f"{len(fields)} fields, at most {EMBED_FIELDS_MAX}")
    for i, f in enumerate(fields):
        w = join(join(where, "fields"), i)
        if not isinstance(f, dict):
            c.add("embed.field", w, "must be an object")
            continue
        c.length("embed.field.name", join(w, "name"), f.get("name"), 1, EMBED_FIELD_NAME_MAX, optional=False)
        c.length("embed.field.value", join(w, "value"), f.get("value"), 1, EMBED_FIELD_VALUE_MAX, optional=False)
    footer = embed.get("footer")
    if footer is not None:
        c.length("embed.footer", join(where, "footer.text"), footer.get("text"), 1, EMBED_FOOTER_MAX, optional=False)
    author = embed.get("author")
    if author is not None:
        c.length("embed.author", join(where, "author.name"), author.get("name"), 1, EMBED_AUTHOR_MAX, optional=False)
    color = embed.get("color")
    if color is not None and (not isinstance(color, int) or not 0 <= color <= 0xFFFFFF):
        c.add("embed.color", join(where, "color"), f"{color!r} is not an RGB integer")


def _check_button(b: dict[str, Any], where: str, c: Collector) -> None:
    style = b.get("style")
    if style not in (1, 2, 3, 4, 5, 6):
        c.add("button.style", join(where, "style"), f"unknown style {style!r}")
    if style == 5:
        if not b.get("url"):
            c.add("button.url", where, "link buttons need a url")
        else:
            c.length("button.url", join(where, "url"), b.get("url"), 1, BUTTON_URL_MAX)
        if b.get("custom_id") is not None:
            c.add("button.custom_id", where, "link buttons cannot have a custom_id")
    elif style == 6:
        if not b.get("sku_id"):
            c.add("button.sku", where, "premium buttons need a sku_id")
        for key in ("custom_id", "label", "url", "emoji"):
            if b.get(key) is not None:
                c.add("button.field", join(where, key), "premium buttons cannot have it")
    else:
        c.length("component.custom_id", join(where, "custom_id"), b.get("custom_id"), 1, CUSTOM_ID_MAX, optional=False)
        if b.get("url") is not None:
            c.add("button.url", join(where, "url"), "only link buttons have a url")
    c.length("button.label", join(where, "label"), b.get("label"), 0, BUTTON_LABEL_MAX)
    if style != 6 and not b.get("label") and not b.get("emoji"):
        c.add("button.label", where, "a button needs a label or an emoji")


def check_select(s: dict[str, Any], where: str, c: Collector) -> None:
    t = s.get("type")
    c.length("component.custom_id", join(where, "custom_id"), s.get("custom_id"), 1, CUSTOM_ID_MAX, optional=False)
    c.length("select.placeholder", join(where, "placeholder"), s.get("placeholder"), 0, SELECT_PLACEHOLDER_MAX)
    lo = s.get("min_values", 1)
    hi = s.get("max_values", 1)
    if not isinstance(lo, int) or not 0 <= lo <= 25:
        c.add("select.values", join(where, "min_values"), f"{lo!r} not within 0..25")
    if not isinstance(hi, int) or not 1 <= hi <= 25:
        c.add("select.values", join(where, "max_values"), f"{hi!r} not within 1..25")
    if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
        c.add("select.values", where, f"min_values {lo} > max_values {hi}")
    if t == 3:
        options = s.get("options") or []
        if not 1 <= len(options) <= SELECT_OPTIONS_MAX:
            c.add("select.options", join(where, "options"), f"{len(options)} options, need 1..{SELECT_OPTIONS_MAX}")
        if isinstance(hi, int) and options and hi > len(options):
            c.add("select.values", join(where, "max_values"), f"max_values {hi} > {len(options)} options")
        values: set[Any] = set()
        defaults = 0
        for i, o in enumerate(options):
            w = join(join(where, "options"), i)
            if not isinstance(o, dict):
                c.add("select.option", w, "must be an object")
                continue
            c.length("select.option.label", join(w, "label"), o.get("label"), 1, SELECT_OPTION_TEXT_MAX, optional=False)
            c.length("select.option.value", join(w, "value"), o.get("value"), 1, SELECT_OPTION_TEXT_MAX, optional=False)
            c.length(
                "select.option.description", join(w, "description"), o.get("description"), 0, SELECT_OPTION_TEXT_MAX
            )
            if o.get("value") in values:
                c.add("select.option.value", join(w, "value"), f"duplicate value {o.get('value')!r}")
            values.add(o.get("value"))
            defaults += bool(o.get("default"))
        if isinstance(hi, int) and defaults > hi:
            c.add("select.values", where, f"{defaults} default options but max_values {hi}")
    else:
        if s.get("options"):
            c.add("select.options", join(where, "options"), "only string selects have options")
        dv = s.get("default_values") or []
        if isinstance(hi, int) and len(dv) > hi:
            c.add("select.values", join(where, "default_values"), f"{len(dv)} defaults but max_values {hi}")
        if s.get("channel_types") is not None and t != 8:
            c.add("select.field", join(where, "channel_types"), "only on channel selects")


def check_message_components(components: Any, flags: int, where: str, c: Collector) -> None:
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
                    join(w, "custom_id"),
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
                    c.add("component.type", join(join(w, "components"), i), "text inputs are only allowed in modals")
                elif kt not in (2, *SELECT_TYPES):
                    c.add("component.type", join(join(w, "components"), i), f"type {kt} not allowed in an action row")
                count += visit(k, join(join(w, "components"), i), 1)
        elif t == 2:
            _check_button(comp, w, c)
        elif t in SELECT_TYPES:
            check_select(comp, w, c)
        elif t in (9, 10, 11, 12, 13, 14, 17):
            if not v2:
                c.add("component.v2", w, f"component type {t} needs the IS_COMPONENTS_V2 flag")
            for key in ("components", "items"):
                for i, k in enumerate(comp.get(key) or []):
                    if key == "components":
                        count += visit(k, join(join(w, key), i), t)
            if comp.get("accessory") is not None:
                count += visit(comp["accessory"], join(w, "accessory"), t)
            if t == 9 and not 1 <= len(comp.get("components") or []) <= 3:
                c.add("section.components", w, "a section holds 1..3 text displays")
        else:
            c.add("component.type", w, f"component type {t!r} not allowed in messages")
        return count

    total = 0
    for i, comp in enumerate(components):
        w = join(where, i)
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


def check_allowed_mentions(body: dict[str, Any], where: str, c: Collector) -> None:
    """Project rule: every message is sent with ``AllowedMentions.none()``."""
    am = body.get("allowed_mentions")
    w = join(where, "allowed_mentions")
    if am is None:
        c.add("allowed_mentions.missing", w, "absent: send every message with AllowedMentions.none()")
        return
    if not isinstance(am, dict):
        c.add("allowed_mentions.shape", w, "must be an object")
        return
    if am.get("parse") != []:
        c.add(
            "allowed_mentions.parse", join(w, "parse"), f"must be [] (AllowedMentions.none()), got {am.get('parse')!r}"
        )
    for key in ("users", "roles"):
        if am.get(key):
            c.add("allowed_mentions.ping", join(w, key), f"pings {key}: {am[key]!r}")
    if am.get("replied_user"):
        c.add("allowed_mentions.ping", join(w, "replied_user"), "pings the replied-to user")


def check_uploads(sizes: list[int], where: str = "files", limit: int = UPLOAD_MAX) -> list[Issue]:
    """The files of one request: together within the upload limit."""
    c = Collector()
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
    c = Collector()
    if body is None:
        body = {}
    if not isinstance(body, dict):
        c.add("message.shape", where, "must be an object")
        return c.issues
    flags = body.get("flags") or 0
    if not isinstance(flags, int):
        c.add("message.flags", join(where, "flags"), f"must be an integer, got {flags!r}")
        flags = 0
    elif flags & ~MESSAGE_FLAGS_ALLOWED:
        c.add("message.flags", join(where, "flags"), f"flag bits {flags & ~MESSAGE_FLAGS_ALLOWED} cannot be set")
    content = body.get("content")
    c.length("message.content", join(where, "content"), content, 0, MESSAGE_CONTENT_MAX)
    embeds = body.get("embeds")
    if embeds is not None:
        if not isinstance(embeds, list):
            c.add("message.embeds", join(where, "embeds"), "must be an array")
            embeds = []
        if len(embeds) > EMBEDS_MAX:
            c.add("message.embeds", join(where, "embeds"), f"{len(embeds)} embeds, at most {EMBEDS_MAX}")
        for i, e in enumerate(embeds):
            check_embed(e, join(join(where, "embeds"), i), c)
        total = sum(_embed_chars(e) for e in embeds if isinstance(e, dict))
        if total > EMBED_TOTAL_MAX:
            c.add("embed.total", join(where, "embeds"), f"{total} characters across embeds, at most {EMBED_TOTAL_MAX}")
    if flags & IS_COMPONENTS_V2:
        if content:
            c.add("message.v2", join(where, "content"), "content cannot be set with IS_COMPONENTS_V2")
        if embeds:
            c.add("message.v2", join(where, "embeds"), "embeds cannot be set with IS_COMPONENTS_V2")
    check_message_components(body.get("components"), flags, join(where, "components"), c)
    attachments = body.get("attachments")
    if attachments is not None:
        if len(attachments) > FILES_MAX:
            c.add(
                "message.attachments",
                join(where, "attachments"),
                f"{len(attachments)} attachments, at most {FILES_MAX}",
            )
        for i, a in enumerate(attachments):
            if isinstance(a, dict):
                c.length(
                    "attachment.description",
                    join(join(where, "attachments"), i) + ".description",
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
