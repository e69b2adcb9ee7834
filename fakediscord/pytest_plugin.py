"""pytest fixture for the fake Discord.

Enable with ``pytest_plugins = ["fakediscord.pytest_plugin"]`` in the root ``conftest.py`` (or
``-p fakediscord.pytest_plugin``). The ``fake_discord`` fixture yields a started
:class:`~fakediscord.FakeDiscord` and fails the test if any payload violation was recorded that
the test did not take with ``fake.take_violations()``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from .server import FakeDiscord


@pytest_asyncio.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake
        fake.assert_no_violations()
