"""REST routes for application commands, global and per guild (what a command-tree sync sends)."""

from __future__ import annotations

import copy
from typing import Any

from . import validate
from .models import snowflake
from .rest import SEGMENT as s
from .rest import ApiRequest, Rest, RouteSpec, api_error


class CommandRoutes(Rest):
    def _command_routes(self) -> list[RouteSpec]:
        app = "/applications/" + s % "app"
        guild = app + "/guilds/" + s % "guild"
        one = "/commands/" + s % "cmd"
        return [
            ("GET", app + "/commands", self._get_commands, True),
            ("PUT", app + "/commands", self._put_commands, True),
            ("POST", app + "/commands", self._post_command, True),
            ("GET", app + one, self._get_command, True),
            ("PATCH", app + one, self._patch_command, True),
            ("DELETE", app + one, self._delete_command, True),
            ("GET", guild + "/commands", self._get_commands, True),
            ("PUT", guild + "/commands", self._put_commands, True),
            ("POST", guild + "/commands", self._post_command, True),
            ("GET", guild + one, self._get_command, True),
            ("PATCH", guild + one, self._patch_command, True),
            ("DELETE", guild + one, self._delete_command, True),
        ]

    def _scope(self, app: str, guild: str | None) -> int | tuple[int, Any] | None:
        if app != str(self.application_id):
            return api_error(403, 50001, "Missing Access")
        if guild is None:
            return None
        if not guild.isdigit() or int(guild) not in self.guilds:
            return api_error(403, 50001, "Missing Access")
        return int(guild)

    def _store_command(self, scope: int | None, body: dict[str, Any]) -> dict[str, Any]:
        ctype = body.get("type") or 1
        key = (scope, ctype, body.get("name", ""))
        cid = self._command_ids.setdefault(key, snowflake())
        cmd: dict[str, Any] = {
            "id": str(cid),
            "application_id": str(self.application_id),
            "version": str(snowflake()),
            "type": ctype,
            "name": body.get("name"),
            "description": body.get("description") or "",
            "default_member_permissions": (
                None if body.get("default_member_permissions") is None else str(body["default_member_permissions"])
            ),
            "dm_permission": body.get("dm_permission", True),
            "contexts": body.get("contexts"),
            "integration_types": body.get("integration_types") or [0],
            "nsfw": bool(body.get("nsfw", False)),
        }
        for key2 in ("name_localizations", "description_localizations"):
            if body.get(key2):
                cmd[key2] = body[key2]
        if body.get("options"):
            cmd["options"] = copy.deepcopy(body["options"])
        if scope is not None:
            cmd["guild_id"] = str(scope)
        return cmd

    async def _get_commands(self, ctx: ApiRequest, app: str, guild: str | None = None) -> tuple[int, Any]:
        scope = self._scope(app, guild)
        if isinstance(scope, tuple):
            return scope
        return 200, copy.deepcopy(self.commands.get(scope, []))

    async def _put_commands(self, ctx: ApiRequest, app: str, guild: str | None = None) -> tuple[int, Any]:
        scope = self._scope(app, guild)
        if isinstance(scope, tuple):
            return scope
        rejected = self._check(ctx, validate.check_commands(ctx.body))
        if rejected:
            return rejected
        key = "global" if scope is None else scope
        self.sync_counts[key] = self.sync_counts.get(key, 0) + 1
        self.commands[scope] = [self._store_command(scope, c) for c in ctx.body or []]
        return 200, copy.deepcopy(self.commands[scope])

    async def _post_command(self, ctx: ApiRequest, app: str, guild: str | None = None) -> tuple[int, Any]:
        scope = self._scope(app, guild)
        if isinstance(scope, tuple):
            return scope
        rejected = self._check(ctx, validate.check_command(ctx.body))
        if rejected:
            return rejected
        cmd = self._store_command(scope, ctx.body)
        cmds = [c for c in self.commands.get(scope, []) if not (c["name"] == cmd["name"] and c["type"] == cmd["type"])]
        created = len(cmds) == len(self.commands.get(scope, []))
        self.commands[scope] = [*cmds, cmd]
        return (201 if created else 200), copy.deepcopy(cmd)

    def _find_command_by_id(self, scope: int | None, cmd: str) -> dict[str, Any] | None:
        return next((c for c in self.commands.get(scope, []) if c["id"] == cmd), None)

    async def _get_command(self, ctx: ApiRequest, app: str, cmd: str, guild: str | None = None) -> tuple[int, Any]:
        scope = self._scope(app, guild)
        if isinstance(scope, tuple):
            return scope
        found = self._find_command_by_id(scope, cmd)
        return (200, copy.deepcopy(found)) if found else api_error(404, 10063, "Unknown application command")

    async def _patch_command(self, ctx: ApiRequest, app: str, cmd: str, guild: str | None = None) -> tuple[int, Any]:
        scope = self._scope(app, guild)
        if isinstance(scope, tuple):
            return scope
        found = self._find_command_by_id(scope, cmd)
        if found is None:
            return api_error(404, 10063, "Unknown application command")
        merged = {**found, **(ctx.body or {})}
        rejected = self._check(ctx, validate.check_command(merged))
        if rejected:
            return rejected
        found.update(ctx.body or {})
        return 200, copy.deepcopy(found)

    async def _delete_command(self, ctx: ApiRequest, app: str, cmd: str, guild: str | None = None) -> tuple[int, Any]:
        scope = self._scope(app, guild)
        if isinstance(scope, tuple):
            return scope
        before = self.commands.get(scope, [])
        self.commands[scope] = [c for c in before if c["id"] != cmd]
        if len(before) == len(self.commands[scope]):
            return api_error(404, 10063, "Unknown application command")
        return 204, None
