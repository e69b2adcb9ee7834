"""REST routes about the bot itself: its user, the gateway address, its application."""

from __future__ import annotations

from typing import Any

from .rest import SEGMENT as s
from .rest import ApiRequest, Rest, RouteSpec, api_error
from .state import APPLICATION_FLAGS


class AppRoutes(Rest):
    def _app_routes(self) -> list[RouteSpec]:
        return [
            ("GET", "/users/@me", self._get_me, True),
            ("GET", "/users/" + s % "user_id", self._get_user, True),
            ("GET", "/gateway", self._get_gateway, False),
            ("GET", "/gateway/bot", self._get_gateway_bot, True),
            ("GET", "/oauth2/applications/@me", self._get_application, True),
            ("GET", "/applications/@me", self._get_application, True),
        ]

    async def _get_me(self, ctx: ApiRequest) -> tuple[int, Any]:
        header = ctx.request.headers.get("Authorization", "")
        if self.token is None:
            self.token = header[4:]
        return 200, self._me()

    async def _get_user(self, ctx: ApiRequest, user_id: str) -> tuple[int, Any]:
        user = self.users.get(int(user_id)) if user_id.isdigit() else None
        if user is None:
            return api_error(404, 10013, "Unknown User")
        return 200, user.to_dict()

    async def _get_gateway(self, ctx: ApiRequest) -> tuple[int, Any]:
        return 200, {"url": self.gateway_url}

    async def _get_gateway_bot(self, ctx: ApiRequest) -> tuple[int, Any]:
        return 200, self.shards.gateway_bot(self.gateway_url, len(self.guilds))

    async def _get_application(self, ctx: ApiRequest) -> tuple[int, Any]:
        return 200, {
            "id": str(self.application_id),
            "name": self.bot_user.name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": APPLICATION_FLAGS,
            "owner": self.owner.to_dict(),
            "team": None,
            "bot": self.bot_user.to_dict(),
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "tags": [],
            "hook": True,
            "is_monetized": False,
            "integration_types_config": {"0": {}},
            "approximate_guild_count": len(self.guilds),
        }
