"""Interaction callback bodies: messages, modals, autocomplete results, and which callback fits which interaction."""

from __future__ import annotations

from typing import Any

from .commands import check_choice
from .common import (
    CALLBACKS_FOR_INTERACTION,
    CHOICES_MAX,
    CUSTOM_ID_MAX,
    EPHEMERAL,
    LABEL_DESCRIPTION_MAX,
    MODAL_COMPONENTS_MAX,
    MODAL_LABEL_CHILDREN,
    MODAL_TITLE_MAX,
    OPTION_STRING,
    SELECT_TYPES,
    SUPPRESS_NOTIFICATIONS,
    TEXT_INPUT_LABEL_MAX,
    TEXT_INPUT_MAX,
    TEXT_INPUT_PLACEHOLDER_MAX,
    Collector,
    Issue,
    join,
)
from .messages import check_message, check_select


# -------------------------------------------------------------------------- modals
def _check_text_input(ti: dict[str, Any], where: str, c: Collector, *, in_label: bool) -> None:
    c.length("component.custom_id", join(where, "custom_id"), ti.get("custom_id"), 1, CUSTOM_ID_MAX, optional=False)
    if ti.get("style") not in (1, 2):
        c.add("text_input.style", join(where, "style"), f"style must be 1 or 2, got {ti.get('style')!r}")
    if in_label:
        if ti.get("label") is not None:
            c.add(
                "text_input.label",
                join(where, "label"),
                "a text input inside a label component cannot have its own label",
            )
    else:
        c.length("text_input.label", join(where, "label"), ti.get("label"), 1, TEXT_INPUT_LABEL_MAX, optional=False)
    c.length("text_input.placeholder", join(where, "placeholder"), ti.get("placeholder"), 0, TEXT_INPUT_PLACEHOLDER_MAX)
    lo, hi = ti.get("min_length"), ti.get("max_length")
    if lo is not None and (not isinstance(lo, int) or not 0 <= lo <= TEXT_INPUT_MAX):
        c.add("text_input.length", join(where, "min_length"), f"{lo!r} not within 0..{TEXT_INPUT_MAX}")
    if hi is not None and (not isinstance(hi, int) or not 1 <= hi <= TEXT_INPUT_MAX):
        c.add("text_input.length", join(where, "max_length"), f"{hi!r} not within 1..{TEXT_INPUT_MAX}")
    if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
        c.add("text_input.length", where, f"min_length {lo} > max_length {hi}")
    value = ti.get("value")
    if value is not None:
        limit = hi if isinstance(hi, int) else TEXT_INPUT_MAX
        c.length("text_input.value", join(where, "value"), value, 0, min(limit, TEXT_INPUT_MAX))


def check_modal(data: Any, where: str = "data") -> list[Issue]:
    c = Collector()
    if not isinstance(data, dict):
        c.add("modal.shape", where, "modal data must be an object")
        return c.issues
    c.length("modal.title", join(where, "title"), data.get("title"), 1, MODAL_TITLE_MAX, optional=False)
    c.length("modal.custom_id", join(where, "custom_id"), data.get("custom_id"), 1, CUSTOM_ID_MAX, optional=False)
    comps = data.get("components") or []
    if not 1 <= len(comps) <= MODAL_COMPONENTS_MAX:
        c.add("modal.components", join(where, "components"), f"{len(comps)} components, need 1..{MODAL_COMPONENTS_MAX}")
    ids: set[Any] = set()
    for i, comp in enumerate(comps):
        w = join(join(where, "components"), i)
        if not isinstance(comp, dict):
            c.add("component.shape", w, "must be an object")
            continue
        t = comp.get("type")
        inner: list[tuple[dict[str, Any], str, bool]] = []
        if t == 1:
            kids = comp.get("components") or []
            if len(kids) != 1:
                c.add("modal.action_row", w, f"an action row in a modal holds exactly one text input, got {len(kids)}")
            inner = [(k, join(join(w, "components"), j), False) for j, k in enumerate(kids)]
            for k, kw, _ in inner:
                if k.get("type") != 4:
                    c.add(
                        "component.type", kw, f"only text inputs go in a modal action row, got type {k.get('type')!r}"
                    )
        elif t == 18:
            c.length("label.label", join(w, "label"), comp.get("label"), 1, TEXT_INPUT_LABEL_MAX, optional=False)
            c.length("label.description", join(w, "description"), comp.get("description"), 1, LABEL_DESCRIPTION_MAX)
            child = comp.get("component")
            if not isinstance(child, dict):
                c.add("label.component", join(w, "component"), "a label wraps exactly one component")
            else:
                if child.get("type") not in MODAL_LABEL_CHILDREN:
                    c.add("component.type", join(w, "component"), f"type {child.get('type')!r} not allowed in a label")
                inner = [(child, join(w, "component"), True)]
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
                check_select(k, kw, c)
            elif k.get("type") is not None:
                c.length("component.custom_id", join(kw, "custom_id"), cid, 1, CUSTOM_ID_MAX, optional=False)
    return c.issues


# --------------------------------------------------------------------- autocomplete
def check_autocomplete(data: Any, option_type: int | None, where: str = "data") -> list[Issue]:
    c = Collector()
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
        c.add("autocomplete.shape", where, "autocomplete data needs a choices array")
        return c.issues
    choices = data["choices"]
    if len(choices) > CHOICES_MAX:
        c.add("autocomplete.choices", join(where, "choices"), f"{len(choices)} choices, at most {CHOICES_MAX}")
    for i, ch in enumerate(choices):
        check_choice(ch, option_type or OPTION_STRING, join(join(where, "choices"), i), c)
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
    c = Collector()
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
