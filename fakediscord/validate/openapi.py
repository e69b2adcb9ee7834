"""The second layer: Discord's published OpenAPI description, when present (see :mod:`fakediscord.validate`)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from .common import Issue, join

OPENAPI_ENV = "LOREBOT_DISCORD_OPENAPI"
_OPENAPI_URI = "urn:discord-api-spec:openapi"


def openapi_path() -> Path | None:
    """Where Discord's OpenAPI document is, or None when it is not available."""
    env = os.environ.get(OPENAPI_ENV)
    if env is not None:
        return Path(env) if env and Path(env).is_file() else None
    repo_root = Path(__file__).resolve().parents[2]
    path = repo_root.parent / "shared" / "discord-api" / "openapi.json"
    return path if path.is_file() else None


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (_OPENAPI_URI + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else _rewrite_refs(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


def _exempt(path: list[Any], validator: str, instance: Any) -> bool:
    """Known places where the published schema is stricter than Discord (see module docstring)."""
    keys = [p for p in path if isinstance(p, str)]
    last = keys[-1] if keys else None
    if isinstance(instance, bool) or not isinstance(instance, (int, str)):
        return False
    if "attachments" in keys and last == "id" and isinstance(instance, int):
        return True  # {"id": 0} refers to files[0]
    if last == "default_member_permissions" and isinstance(instance, str) and instance.isdigit():
        return True  # the documented string form of the bitfield
    # allowed_mentions.users[i] / .roles[i] as integers
    return bool(path) and isinstance(path[-1], int) and last in ("users", "roles") and "allowed_mentions" in keys


class OpenAPIValidator:
    """Validates request bodies against Discord's OpenAPI document."""

    def __init__(self, path: Path) -> None:
        import jsonschema  # lazy: optional dependency
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        self._jsonschema = jsonschema
        with open(path, encoding="utf-8") as fh:
            self.doc: dict[str, Any] = json.load(fh)
        resource = Resource.from_contents(self.doc, default_specification=DRAFT202012)
        self._registry = Registry().with_resource(_OPENAPI_URI, resource)
        self._routes: list[tuple[re.Pattern[str], str, int]] = []
        for template in self.doc.get("paths", {}):
            params = template.count("{")
            regex = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
            self._routes.append((re.compile(regex), template, params))
        self._routes.sort(key=lambda r: r[2])  # literal segments (@original) win over {params}
        self._validators: dict[tuple[str, str], Any] = {}

    @classmethod
    def load(cls, path: Path | None = None) -> OpenAPIValidator | None:
        """The validator for ``path`` (default: :func:`openapi_path`), or None if unavailable."""
        path = path or openapi_path()
        if path is None:
            return None
        try:
            import jsonschema  # noqa: F401
        except ImportError:
            return None
        key = str(path)
        if key not in _CACHE:
            _CACHE[key] = cls(path)
        return _CACHE[key]

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        for regex, template, _ in self._routes:
            if regex.match(path):
                op = self.doc["paths"][template].get(method.lower())
                if op is not None:
                    return template, op
        return None

    def _validator(self, method: str, path: str) -> Any:
        found = self.operation(method, path)
        if found is None:
            return None
        template, op = found
        key = (method.upper(), template)
        if key not in self._validators:
            content = (op.get("requestBody") or {}).get("content") or {}
            schema = (content.get("application/json") or {}).get("schema")
            if schema is None:
                self._validators[key] = None
            else:
                cls = self._jsonschema.Draft202012Validator
                self._validators[key] = cls(_rewrite_refs(schema), registry=self._registry)
        return self._validators[key]

    def validate(self, method: str, path: str, body: Any) -> list[Issue]:
        """Problems with ``body`` for ``method path`` (path below ``/api/v10``)."""
        validator = self._validator(method, path)
        if validator is None or body is None:
            return []
        issues: list[Issue] = []
        for error in validator.iter_errors(body):
            for leaf in _leaves(error):
                if _exempt(list(leaf.absolute_path), leaf.validator, leaf.instance):
                    continue
                where = _format_path(leaf.absolute_path)
                issues.append(Issue("openapi", where, _describe(leaf)))
        return _dedupe(issues)


def _leaves(error: Any) -> list[Any]:
    """For anyOf/oneOf failures, the errors of the most plausible branch; else the error itself."""
    if not error.context:
        return [error]
    branches: dict[Any, list[Any]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    if not branches:
        return [error]

    def discriminator_mismatch(errs: list[Any]) -> bool:
        # A branch whose "type" const/enum (or JSON type) does not match is not the intended one.
        for e in errs:
            rel = list(e.relative_path)
            if rel == ["type"] and e.validator in ("enum", "const"):
                return True
            if not rel and e.validator in ("type", "const", "enum"):
                return True
        return False

    plausible = [errs for errs in branches.values() if not discriminator_mismatch(errs)]
    if not plausible:
        return [error]
    best = min(plausible, key=len)
    out: list[Any] = []
    for e in best:
        out += _leaves(e)
    return out


def _format_path(path: Any) -> str:
    out = ""
    for p in path:
        out = join(out, p if isinstance(p, int) else str(p))
    return out


def _describe(error: Any) -> str:
    """A short message for a schema error (jsonschema's repeat the whole instance)."""
    v, limit, inst = error.validator, error.validator_value, error.instance
    if v in ("maxLength", "minLength") and isinstance(inst, str):
        return f"length {len(inst)} violates {v} {limit}"
    if v in ("maxItems", "minItems") and isinstance(inst, list):
        return f"{len(inst)} items violates {v} {limit}"
    if v in ("maxProperties", "minProperties") and isinstance(inst, dict):
        return f"{len(inst)} properties violates {v} {limit}"
    text = repr(inst)
    if len(text) > 60:
        text = text[:57] + "..."
    if v == "type":
        return f"{text} is not of type {limit}"
    if v == "required":
        return error.message if len(error.message) < 120 else f"missing required properties {limit}"
    if v in ("enum", "const"):
        return f"{text} is not one of {limit}"
    if v in ("minimum", "maximum"):
        return f"{text} violates {v} {limit}"
    if v in ("anyOf", "oneOf"):
        return f"{text} matches none of the allowed shapes"
    msg = str(error.message)
    return msg if len(msg) <= 200 else msg[:197] + "..."


def _dedupe(issues: list[Issue]) -> list[Issue]:
    seen: set[tuple[str, str]] = set()
    out = []
    for i in issues:
        if (i.where, i.message) not in seen:
            seen.add((i.where, i.message))
            out.append(i)
    return out


_CACHE: dict[str, OpenAPIValidator] = {}
