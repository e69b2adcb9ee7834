"""Point an unmodified discord.py at the fake, and put it back afterwards.

discord.py builds every REST URL from ``discord.http.Route.BASE`` when a ``Route`` is created
(the interaction/webhook adapter uses the same ``Route`` class), and a client that is not
sharded never calls ``GET /gateway/bot``: ``Client.connect`` goes straight to
``DiscordWebSocket.DEFAULT_GATEWAY``, and later to the ``resume_gateway_url`` from READY.
Both are class attributes, so the patch is process-wide: run one fake at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def patch_discord(api_base: str, gateway_url: str) -> Iterator[None]:
    """Patch ``Route.BASE`` (e.g. ``http://127.0.0.1:PORT/api/v10``) and ``DEFAULT_GATEWAY``."""
    import discord.gateway
    import discord.http
    import yarl

    route = discord.http.Route
    ws_cls = discord.gateway.DiscordWebSocket
    old_base = route.BASE
    old_gateway = ws_cls.DEFAULT_GATEWAY
    route.BASE = api_base
    ws_cls.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    try:
        yield
    finally:
        route.BASE = old_base
        ws_cls.DEFAULT_GATEWAY = old_gateway
