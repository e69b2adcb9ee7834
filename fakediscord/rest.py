"""The REST API's plumbing: reading bodies, routing, authorisation, rate-limit headers, the
attachment CDN, and checking bodies against Discord's rules (:mod:`fakediscord.validate`).

The routes themselves live in ``rest_*`` modules, one per resource.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from . import validate
from .models import snowflake
from .records import InteractionRecord
from .result import FileAttachment, RecordedRequest, Violation
from .state import FakeState
from .world import guess_type

log = logging.getLogger("fakediscord")

PROJECT_RULES = ("allowed_mentions.",)

#: A route handler: ``(status, JSON body or None)`` for a request and the path's named groups.
Handler = Callable[..., Awaitable[tuple[int, Any]]]
#: ``(method, path regex below /api/v10, handler, needs the bot's Authorization header)``
RouteSpec = tuple[str, str, Handler, bool]
Route = tuple[str, re.Pattern[str], Handler, bool]
#: A path segment captured under a name: ``SEGMENT % "cid"``.
SEGMENT = r"(?P<%s>[^/]+)"


@dataclass
class ApiRequest:
    """A request to ``/api/v10`` as its route handler gets it (the body parsed, the files read)."""

    request: web.Request
    recorded: RecordedRequest
    body: Any
    files: list[tuple[int, FileAttachment]]


def api_error(status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> tuple[int, Any]:
    body: dict[str, Any] = {"message": message, "code": code}
    if errors:
        body["errors"] = errors
    return status, body


def _form_errors(issues: Iterable[validate.Issue]) -> dict[str, Any]:
    """Discord-style nested ``errors`` object for an Invalid Form Body response."""
    out: dict[str, Any] = {}
    for issue in issues:
        node = out
        for part in [p for p in re.split(r"[.\[\]]+", issue.where) if p]:
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": issue.rule.upper().replace(".", "_"), "message": issue.message})
    return out


def json_response(payload: Any, status: int, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py only parses bodies whose Content-Type is exactly "application/json" (like Discord
    # sends); aiohttp's json_response would add "; charset=utf-8" and turn them into plain text.
    return web.Response(
        body=json.dumps(payload, separators=(",", ":")).encode("utf-8"),
        status=status,
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


def truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true", "yes")


def redact(request: str) -> str:
    """Hide interaction tokens in request descriptions."""
    return re.sub(r"(/(?:interactions|webhooks)/\d+/)[^/\s]+", r"\1<token>", request)


class Rest(FakeState):
    """Serves ``/api/v10``: the routes are those of the ``rest_*`` parts (see ``FakeDiscord._build_routes``)."""

    _routes: tuple[Route, ...] = ()

    def _headers(self, path: str) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "4",
            "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000",
            "X-RateLimit-Bucket": f"fake{abs(hash(re.sub(r'[0-9]{15,}', '0', path))) % 10**8}",
        }

    async def _read_body(self, request: web.Request) -> tuple[Any, list[tuple[int, FileAttachment]]]:
        ctype = request.content_type
        files: list[tuple[int, FileAttachment]] = []
        if ctype.startswith("multipart/"):
            body: Any = None
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                assert isinstance(part, BodyPartReader)  # a form's parts are flat
                name = part.name or ""
                if name == "payload_json":
                    body = json.loads(await part.text())
                    continue
                m = re.fullmatch(r"files\[(\d+)\]", name) or re.fullmatch(r"file(\d*)", name)
                data = await part.read(decode=False)
                if m is None:
                    continue
                index = int(m.group(1) or 0)
                filename = part.filename or f"file{index}"
                fid = snowflake()
                f = FileAttachment(
                    fid,
                    filename,
                    bytes(data),
                    guess_type(filename),
                    url=self._file_url(fid, filename),
                    spoiler=filename.startswith("SPOILER_"),
                )
                files.append((index, f))
            return body, files
        raw = await request.read()
        if not raw:
            return None, files
        try:
            return json.loads(raw), files
        except ValueError:
            return raw.decode("utf-8", errors="replace"), files

    async def _api_handler(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        try:
            body, files = await self._read_body(request)
        except ValueError as exc:
            body, files = None, []
            recorded = RecordedRequest(request.method, path, dict(request.query), None, [], 400, None)
            self.requests.append(recorded)
            self._violation(Violation(redact(f"{request.method} {path}"), "body.json", f"unparseable body: {exc}"))
            return json_response({"message": "400: Bad Request", "code": 50109}, 400)
        recorded = RecordedRequest(request.method, path, dict(request.query), body, [f for _, f in files])
        self.requests.append(recorded)
        try:
            status, payload = await self._route(request, path, recorded, body, files)
        except Exception as exc:
            # A bug in the fake must not look like a Discord outage (discord.py retries 5xx with
            # back-off): answer 400 and make it fail the run.
            log.exception("fake discord: internal error on %s %s", request.method, path)
            self._violation(
                Violation(redact(f"{request.method} {path}"), "fake.internal_error", f"{type(exc).__name__}: {exc}")
            )
            status, payload = api_error(400, 0, f"fake discord internal error: {exc!r}")
        recorded.status, recorded.response = status, payload
        headers = self._headers(path)
        if status == 204 or payload is None:
            return web.Response(status=204 if status < 300 else status, headers=headers)
        return json_response(payload, status, headers)

    async def _route(
        self,
        request: web.Request,
        path: str,
        recorded: RecordedRequest,
        body: Any,
        files: list[tuple[int, FileAttachment]],
    ) -> tuple[int, Any]:
        for method, regex, handler, auth in self._routes:
            m = regex.match(path)
            if m is None or method != request.method:
                continue
            if auth:
                header = request.headers.get("Authorization", "")
                if not header.startswith("Bot ") or (self.token is not None and header[4:] != self.token):
                    return api_error(401, 0, "401: Unauthorized")
            return await handler(ApiRequest(request, recorded, body, files), **m.groupdict())
        recorded.known = False
        self.unknown_requests.append(recorded)
        log.warning("fake discord: unhandled %s %s", request.method, path)
        return api_error(404, 0, "404: Not Found")

    async def _unknown_handler(self, request: web.Request) -> web.StreamResponse:
        recorded = RecordedRequest(request.method, request.path, dict(request.query), None, [], 404, None, False)
        self.requests.append(recorded)
        self.unknown_requests.append(recorded)
        return json_response({"message": "404: Not Found", "code": 0}, 404)

    async def _cdn_handler(self, request: web.Request) -> web.StreamResponse:
        try:
            f = self.files[int(request.match_info["id"])]
        except (KeyError, ValueError):
            return web.Response(status=404, text="Not Found")
        if f.filename != request.match_info["filename"]:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=f.data, content_type=(f.content_type or "application/octet-stream").split(";")[0])

    def _check(
        self, ctx: ApiRequest, issues: list[validate.Issue], rec: InteractionRecord | None = None
    ) -> tuple[int, Any] | None:
        """Record violations (hand-written rules + OpenAPI); return a 400 response if rejecting (and note
        it on ``rec``, the interaction whose token the request used)."""
        req = f"{ctx.recorded.method} {ctx.recorded.path.split('?')[0]}"
        if self._openapi is not None:
            issues = issues + self._openapi.validate(ctx.recorded.method, ctx.recorded.path, ctx.body)
        for i in issues:
            self._violation(Violation(redact(req), i.rule, i.message, i.where), rec)
        fatal = [i for i in issues if i.rule != "openapi" and not i.rule.startswith(PROJECT_RULES)]
        if fatal and self.reject_invalid:
            if rec is not None:
                rec.rejected.append(ctx.recorded)
            return api_error(400, 50035, "Invalid Form Body", _form_errors(fatal))
        return None

    def _upload_issues(self, ctx: ApiRequest) -> list[validate.Issue]:
        return validate.check_uploads([len(f.data) for _, f in ctx.files])

    def _message_issues(self, ctx: ApiRequest, *, create: bool = True) -> list[validate.Issue]:
        """What is wrong with a message body (create or edit) and its uploads."""
        issues = validate.check_message(
            ctx.body, files=len(ctx.files), create=create, require_no_mentions=self.require_no_mentions
        )
        return issues + self._upload_issues(ctx)
