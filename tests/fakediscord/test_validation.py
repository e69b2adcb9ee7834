"""The fake's checks of what a bot sends, on their own: command, message, modal and upload
rules, and Discord's OpenAPI document with the exemptions for what discord.py sends."""

from __future__ import annotations

import pytest

from fakediscord import validate
from fakediscord.validate import (
    OPENAPI_ENV,
    OpenAPIValidator,
    check_commands,
    check_message,
    check_modal,
    openapi_path,
)


def test_command_rules():
    good = {
        "name": "lore",
        "description": "Lore",
        "options": [
            {"type": 3, "name": "q", "description": "Query", "required": True},
            {"type": 4, "name": "n", "description": "Count", "min_value": 1, "max_value": 5},
        ],
    }
    assert check_commands([good]) == []
    bad = {
        "name": "Lore Bot",
        "description": "",
        "options": [
            {"type": 4, "name": "n", "description": "Count", "min_value": 6, "max_value": 5},
            {
                "type": 3,
                "name": "q",
                "description": "Query",
                "required": True,
                "autocomplete": True,
                "choices": [{"name": "a", "value": "a" * 101}],
            },
        ],
    }
    rules = {i.rule for i in check_commands([bad, bad])}
    assert {
        "command.name",
        "command.description",
        "option.range",
        "option.order",
        "option.autocomplete",
        "choice.value",
    } <= rules
    too_many = [{"name": f"c{i}", "description": "d"} for i in range(101)]
    assert any(i.rule == "commands.count" for i in check_commands(too_many))
    assert check_commands([{"name": "सूची", "description": "d"}, {"name": "ค้นหา", "description": "d"}]) == []


def test_message_and_modal_rules():
    msg = {
        "content": "x" * 2001,
        "embeds": [{"title": "t" * 257, "fields": [{"name": "n", "value": "v" * 1025}] * 26}],
        "components": [
            {
                "type": 1,
                "components": [
                    {"type": 2, "style": 1, "custom_id": "a", "label": "A"},
                    {"type": 3, "custom_id": "s", "options": [{"label": "x", "value": "x"}]},
                ],
            }
        ],
        "allowed_mentions": {"parse": ["users"]},
    }
    rules = {i.rule for i in check_message(msg)}
    assert {
        "message.content",
        "embed.title",
        "embed.fields",
        "embed.field.value",
        "embed.total",
        "action_row.select",
        "allowed_mentions.parse",
    } <= rules
    assert any(i.rule == "allowed_mentions.missing" for i in check_message({"content": "hi"}))
    modal = {
        "title": "t" * 46,
        "custom_id": "m",
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": "a", "style": 1, "label": "A", "max_length": 5000}]},
        ],
    }
    rules = {i.rule for i in check_modal(modal)}
    assert {"modal.title", "text_input.length"} <= rules


def test_openapi_validator_and_exemptions(monkeypatch, tmp_path):
    monkeypatch.setenv(OPENAPI_ENV, "")
    assert openapi_path() is None
    monkeypatch.setenv(OPENAPI_ENV, str(tmp_path / "missing.json"))
    assert openapi_path() is None
    monkeypatch.delenv(OPENAPI_ENV)
    validator = OpenAPIValidator.load()
    if validator is None:
        pytest.skip("Discord's OpenAPI document is not available")
    assert validator.operation("PATCH", "/webhooks/1/tok/messages/@original")[0].endswith("/messages/@original")
    # what discord.py sends for a reply with a file: integer attachment ids (exempted)
    ok = {
        "type": 4,
        "data": {
            "content": "hi",
            "attachments": [{"id": 0, "filename": "a.yaml"}],
            "allowed_mentions": {"parse": []},
            "tts": False,
        },
    }
    assert validator.validate("POST", "/interactions/1/tok/callback", ok) == []
    bad = {"type": 9, "data": {"custom_id": "m", "title": "t" * 46, "components": []}}
    issues = validator.validate("POST", "/interactions/1/tok/callback", bad)
    assert {i.where for i in issues} == {"data.title", "data.components"}
    commands_body = [{"name": "x", "description": "d", "default_member_permissions": "32"}]
    assert validator.validate("PUT", "/applications/1/commands", commands_body) == []


def test_uploads_beyond_the_limit_are_refused():
    assert validate.check_uploads([1024, 200_000]) == []
    issues = validate.check_uploads([validate.UPLOAD_MAX, 1])
    assert [i.rule for i in issues] == ["message.file_size"]
