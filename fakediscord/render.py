"""Plain-text rendering of what the bot sent, for terminals and test failure messages.

``render_result(result)`` renders a whole :class:`~fakediscord.result.InteractionResult`
(response, modal or autocomplete choices, follow-ups); ``render_message``, ``render_embed``,
``render_components``, ``render_modal`` and ``render_choices`` render the parts. Output is
plain text without colours or box-drawing tricks beyond a ``|`` gutter for embeds.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: result.py imports this module to render itself
    from .result import Choice, FakeMessage, InteractionResult, ModalInfo

BUTTON_STYLES = {1: "primary", 2: "secondary", 3: "success", 4: "danger", 5: "link", 6: "premium"}
SELECT_KINDS = {3: "select", 5: "user select", 6: "role select", 7: "mentionable select", 8: "channel select"}


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else prefix.rstrip() for line in text.split("\n"))


def render_embed(embed: dict[str, Any]) -> str:
    lines: list[str] = []
    author = (embed.get("author") or {}).get("name")
    if author:
        lines.append(f"~ {author}")
    title = embed.get("title")
    if title:
        lines.append(f"## {title}" + (f"  <{embed['url']}>" if embed.get("url") else ""))
    if embed.get("description"):
        lines.append(embed["description"])
    for f in embed.get("fields") or []:
        lines.append("")
        lines.append(f"* {f.get('name', '')}" + ("  (inline)" if f.get("inline") else ""))
        lines.append(_indent(str(f.get("value", "")), "  "))
    for key in ("image", "thumbnail"):
        if (embed.get(key) or {}).get("url"):
            lines.append(f"[{key}: {embed[key]['url']}]")
    footer = (embed.get("footer") or {}).get("text")
    if footer or embed.get("timestamp"):
        lines.append("")
        lines.append("-- " + " | ".join(x for x in (footer, embed.get("timestamp")) if x))
    return _indent("\n".join(lines), "| ")


def _render_select(c: dict[str, Any]) -> list[str]:
    kind = SELECT_KINDS.get(c.get("type", 3), "select")
    lo, hi = c.get("min_values", 1), c.get("max_values", 1)
    head = f"<{kind} {c.get('custom_id')!r}"
    if c.get("placeholder"):
        head += f" {c['placeholder']!r}"
    head += f" pick {lo}-{hi}" + (" disabled" if c.get("disabled") else "") + ">"
    out = [head]
    for o in c.get("options") or []:
        line = f"  - {o.get('label')} = {o.get('value')!r}"
        if o.get("description"):
            line += f" -- {o['description']}"
        if o.get("default"):
            line += " (default)"
        out.append(line)
    return out


def _render_button(c: dict[str, Any]) -> str:
    label = c.get("label") or ""
    emoji = (c.get("emoji") or {}).get("name")
    if emoji:
        label = f"{emoji} {label}".strip()
    style = BUTTON_STYLES.get(c.get("style", 0), "?")
    target = c.get("url") if c.get("style") == 5 else c.get("custom_id")
    flags = " disabled" if c.get("disabled") else ""
    return f"[{label}]({style}: {target}{flags})"


def render_components(components: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for comp in components or []:
        t = comp.get("type")
        if t == 1:
            buttons = [_render_button(c) for c in comp.get("components", []) if c.get("type") == 2]
            if buttons:
                lines.append(" ".join(buttons))
            for c in comp.get("components", []):
                if c.get("type") != 2:
                    lines += render_components([c]).split("\n")
        elif t == 2:
            lines.append(_render_button(comp))
        elif t in SELECT_KINDS:
            lines += _render_select(comp)
        elif t == 4:
            style = "paragraph" if comp.get("style") == 2 else "short"
            req = "required" if comp.get("required", True) else "optional"
            line = f"<text input {comp.get('custom_id')!r} {style} {req}"
            if comp.get("label"):
                line = f"{comp['label']}: " + line
            if comp.get("max_length") is not None:
                line += f" max {comp['max_length']}"
            if comp.get("value"):
                line += f" value={comp['value']!r}"
            lines.append(line + ">")
        elif t == 9:  # section
            lines += render_components(comp.get("components", [])).split("\n")
            if comp.get("accessory"):
                lines.append("  " + render_components([comp["accessory"]]))
        elif t == 10:
            lines.append(comp.get("content", ""))
        elif t == 11:
            lines.append(f"[thumbnail {(comp.get('media') or {}).get('url')}]")
        elif t == 12:
            lines += [f"[media {(i.get('media') or {}).get('url')}]" for i in comp.get("items", [])]
        elif t == 13:
            lines.append(f"[file {(comp.get('file') or {}).get('url')}]")
        elif t == 14:
            lines.append("-" * 20)
        elif t == 17:
            lines.append(_indent(render_components(comp.get("components", [])), "# "))
        elif t == 18:
            lines.append(f"{comp.get('label', '')}" + (f" ({comp['description']})" if comp.get("description") else ""))
            lines.append(_indent(render_components([comp["component"]]), "  "))
        elif t == 19:
            lines.append(f"<file upload {comp.get('custom_id')!r}>")
        elif t in (21, 22):
            kind = "radio" if t == 21 else "checkboxes"
            lines.append(f"<{kind} {comp.get('custom_id')!r}>")
            lines += [f"  - {o.get('label')} = {o.get('value')!r}" for o in comp.get("options", [])]
        elif t == 23:
            lines.append(f"<checkbox {comp.get('custom_id')!r}>")
        else:
            lines.append(f"<component type {t}>")
    return "\n".join(lines)


def render_message(msg: FakeMessage) -> str:
    parts: list[str] = []
    tags = []
    if msg.ephemeral:
        tags.append("ephemeral")
    if msg.loading:
        tags.append("thinking...")
    if msg.deleted:
        tags.append("deleted")
    if msg.edited_timestamp:
        tags.append("edited")
    if tags:
        parts.append("(" + ", ".join(tags) + ")")
    if msg.content:
        parts.append(msg.content)
    for e in msg.embeds:
        parts.append(render_embed(e))
    if msg.components:
        parts.append(render_components(msg.components))
    for a in msg.attachments:
        ctype = f", {a.content_type}" if a.content_type else ""
        parts.append(f"[attachment {a.filename} ({a.size} bytes{ctype})]")
    return "\n".join(parts)


def render_modal(modal: ModalInfo) -> str:
    head = f"[modal {modal.title!r} ({modal.custom_id})]"
    return head + "\n" + _indent(render_components(modal.components), "  ")


def render_choices(choices: list[Choice]) -> str:
    if not choices:
        return "(no choices)"
    return "\n".join(f"- {c.name}" + (f" = {c.value!r}" if c.value != c.name else "") for c in choices)


def render_result(result: InteractionResult, *, width: int | None = None) -> str:
    """Render everything the bot answered to one interaction."""
    parts: list[str] = []
    if result.type is None:
        parts.append("(no response)" + (" -- timed out" if result.timed_out else ""))
    elif result.type == 8:
        parts.append(render_choices(result.choices or []))
    elif result.type == 9 and result.modal is not None:
        parts.append(render_modal(result.modal))
    elif result.message is not None:
        if result.original_deleted:
            parts.append("(response deleted)")
        parts.append(render_message(result.message))
    elif result.type in (5, 6):
        parts.append(f"({str(result.type_name).lower()})")
    extra = [f for f in result.followups if result.message is None or f.id != result.message.id]
    for i, f in enumerate(extra, 1):
        parts.append(f"--- follow-up {i}")
        parts.append(render_message(f))
    for err in result.errors:
        parts.append("!! bot error: " + err.strip().split("\n")[-1])
    for v in result.violations:
        parts.append(f"!! violation: {v}")
    text = "\n".join(p for p in parts if p != "")
    if width:
        text = "\n".join(
            "\n".join(textwrap.wrap(line, width, replace_whitespace=False)) if len(line) > width else line
            for line in text.split("\n")
        )
    return text
