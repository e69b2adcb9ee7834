"""REST routes on an interaction's token: the callback, follow-ups, and the webhook messages
(``@original`` and follow-ups) the bot reads, edits and deletes."""

from __future__ import annotations

import copy
import time
from typing import Any

from . import validate
from .records import InteractionRecord
from .rest import SEGMENT as s
from .rest import ApiRequest, Rest, RouteSpec, api_error, truthy
from .result import EPHEMERAL, Choice, FakeMessage, ModalInfo, Violation
from .state import MESSAGE_FLAGS_SETTABLE, assign_component_ids


class WebhookRoutes(Rest):
    def _webhook_routes(self) -> list[RouteSpec]:
        hook = "/webhooks/" + s % "app" + "/" + s % "token"
        message = hook + "/messages/" + s % "mid"
        return [
            ("POST", "/interactions/" + s % "iid" + "/" + s % "token" + "/callback", self._callback, False),
            ("POST", hook, self._followup, False),
            ("GET", message, self._get_wh_message, False),
            ("PATCH", message, self._edit_wh_message, False),
            ("DELETE", message, self._delete_wh_message, False),
        ]

    async def _callback(self, ctx: ApiRequest, iid: str, token: str) -> tuple[int, Any]:
        rec = self._records.get(token)
        if rec is None or str(rec.id) != iid:
            return api_error(404, 10062, "Unknown interaction")
        rec.requests.append(ctx.recorded)
        rec.inflight += 1
        self._touch(rec)
        try:
            return self._do_callback(ctx, rec)
        finally:
            rec.inflight -= 1
            self._touch(rec)
            rec.attempted.set()

    def _do_callback(self, ctx: ApiRequest, rec: InteractionRecord) -> tuple[int, Any]:
        req = f"POST /interactions/{rec.id}/<token>/callback"
        if rec.callback_type is not None:
            rec.rejected.append(ctx.recorded)
            return api_error(400, 40060, "Interaction has already been acknowledged.")
        elapsed = time.monotonic() - rec.created
        if self.callback_deadline is not None and elapsed > self.callback_deadline:
            v = Violation(
                req,
                "callback.deadline",
                f"interaction answered after {elapsed:.2f}s; Discord allows {self.callback_deadline}s",
            )
            self._violation(v, rec)
            rec.rejected.append(ctx.recorded)
            return api_error(404, 10062, "Unknown interaction")
        body = ctx.body
        issues = validate.check_callback(
            body,
            interaction_type=rec.type,
            files=len(ctx.files),
            option_type=rec.option_type,
            from_component=rec.source_message_id is not None,
            require_no_mentions=self.require_no_mentions,
        )
        rejected = self._check(ctx, issues + self._upload_issues(ctx), rec)
        if rejected:
            return rejected
        t = body["type"]
        data = body.get("data") or {}
        guild_id = int(rec.payload["guild_id"]) if "guild_id" in rec.payload else None
        channel_id = rec.channel.id
        msg: FakeMessage | None = None
        if t == 4:
            msg = self._new_message(rec, channel_id, guild_id, message_type=20 if rec.type == 2 else 0)
            self._apply(msg, data, ctx.files, create=True)
            rec.original_id = msg.id
        elif t == 5:
            msg = self._new_message(rec, channel_id, guild_id, message_type=20 if rec.type == 2 else 0)
            msg.flags = (data.get("flags") or 0) & (EPHEMERAL | (1 << 12))
            msg.loading = True
            rec.original_id = msg.id
        elif t in (6, 7):
            if rec.source_message_id is None:
                rec.rejected.append(ctx.recorded)
                return api_error(400, 50035, "Invalid Form Body")
            msg = self.messages[rec.source_message_id]
            rec.original_id = msg.id
            if t == 7:
                self._apply(msg, data, ctx.files, create=False)
        elif t == 8:
            rec.choices = [
                Choice(c.get("name"), c.get("value"), c.get("name_localizations")) for c in data.get("choices") or []
            ]
        elif t == 9:
            rec.modal = ModalInfo(
                data.get("custom_id", ""), data.get("title", ""), copy.deepcopy(data.get("components") or [])
            )
            assign_component_ids(rec.modal.components)
        rec.callback_type = t
        rec.callback_body = copy.deepcopy(body)
        if not truthy(ctx.request.query.get("with_response")):
            return 204, None
        interaction: dict[str, Any] = {"id": str(rec.id), "type": rec.type}
        resource: dict[str, Any] = {"type": t}
        if msg is not None:
            interaction["response_message_id"] = str(msg.id)
            interaction["response_message_loading"] = msg.loading
            interaction["response_message_ephemeral"] = msg.ephemeral
            if t in (4, 7):
                resource["message"] = msg.to_discord()
        out: dict[str, Any] = {"interaction": interaction}
        if t in (4, 7, 8, 9) or t == 5:
            out["resource"] = resource
        return 200, out

    async def _followup(self, ctx: ApiRequest, app: str, token: str) -> tuple[int, Any]:
        rec = self._rec_for(app, token)
        if rec is None:
            return api_error(404, 10015, "Unknown Webhook")
        rec.requests.append(ctx.recorded)
        rec.inflight += 1
        try:
            if rec.callback_type is None or rec.callback_type in (8, 9):
                rec.rejected.append(ctx.recorded)
                return api_error(404, 10015, "Unknown Webhook")
            rejected = self._check(ctx, self._message_issues(ctx), rec)
            if rejected:
                return rejected
            original = self.messages.get(rec.original_id) if rec.original_id is not None else None
            if rec.callback_type == 5 and original is not None and original.loading:
                # The first follow-up after a deferred "thinking" response replaces it.
                msg = original
                flags = msg.flags
                self._apply(msg, ctx.body, ctx.files, create=True)
                msg.flags = flags | ((ctx.body or {}).get("flags") or 0) & ~EPHEMERAL & MESSAGE_FLAGS_SETTABLE
                msg.loading = False
            else:
                guild_id = int(rec.payload["guild_id"]) if "guild_id" in rec.payload else None
                msg = self._new_message(rec, rec.channel.id, guild_id)
                self._apply(msg, ctx.body, ctx.files, create=True)
            rec.followup_ids.append(msg.id)
            if truthy(ctx.request.query.get("wait")):
                return 200, msg.to_discord()
            return 204, None
        finally:
            rec.inflight -= 1
            self._touch(rec)

    def _wh_target(self, rec: InteractionRecord, mid: str) -> FakeMessage | None:
        if mid == "@original":
            return self.messages.get(rec.original_id) if rec.original_id is not None else None
        if not mid.isdigit():
            return None
        msg = self.messages.get(int(mid))
        if msg is None or (msg.id not in rec.followup_ids and msg.id != rec.original_id):
            return None
        return msg

    async def _get_wh_message(self, ctx: ApiRequest, app: str, token: str, mid: str) -> tuple[int, Any]:
        rec = self._rec_for(app, token)
        if rec is None:
            return api_error(404, 10015, "Unknown Webhook")
        rec.requests.append(ctx.recorded)
        msg = self._wh_target(rec, mid)
        if msg is None or msg.deleted:
            return api_error(404, 10008, "Unknown Message")
        return 200, msg.to_discord()

    async def _edit_wh_message(self, ctx: ApiRequest, app: str, token: str, mid: str) -> tuple[int, Any]:
        rec = self._rec_for(app, token)
        if rec is None:
            return api_error(404, 10015, "Unknown Webhook")
        rec.requests.append(ctx.recorded)
        rec.inflight += 1
        try:
            msg = self._wh_target(rec, mid)
            if msg is None or msg.deleted:
                rec.rejected.append(ctx.recorded)
                return api_error(404, 10008, "Unknown Message")
            rejected = self._check(ctx, self._message_issues(ctx, create=False), rec)
            if rejected:
                return rejected
            self._apply(msg, ctx.body, ctx.files, create=False)
            if msg.id == rec.original_id:
                rec.edits.append(copy.deepcopy(ctx.body or {}))
            return 200, msg.to_discord()
        finally:
            rec.inflight -= 1
            self._touch(rec)

    async def _delete_wh_message(self, ctx: ApiRequest, app: str, token: str, mid: str) -> tuple[int, Any]:
        rec = self._rec_for(app, token)
        if rec is None:
            return api_error(404, 10015, "Unknown Webhook")
        rec.requests.append(ctx.recorded)
        msg = self._wh_target(rec, mid)
        if msg is None or msg.deleted:
            return api_error(404, 10008, "Unknown Message")
        msg.deleted = True
        if msg.id == rec.original_id:
            rec.original_deleted = True
        self._touch(rec)
        return 204, None
