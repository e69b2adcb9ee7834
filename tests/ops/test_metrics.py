"""The metrics endpoint (lorebot[metrics]) after a few interactions: counts by command and outcome,
latency histograms, errors by kind, rate-limited requests, gateway latency, guilds, shards, entries
per scope and database write latency — served on 127.0.0.1 only."""

from __future__ import annotations

import re

import aiohttp
import pytest

from bot.metrics import Metrics, NullMetrics, make_metrics
from bot.ratelimit import Limits
from bot.service import ServiceOptions
from fakediscord import FakeDiscord
from tests.e2e.conftest import make_bot

pytest.importorskip("prometheus_client")  # `make test` installs the extra; a bare install has NullMetrics


def value(text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(want) + r"\}" if want else "") + r" ([0-9.e+-]+|NaN)$"
    found = re.search(pattern, text, re.MULTILINE)
    assert found, f"{name}{{{want}}} not in the metrics"
    return float(found.group(1))


async def test_the_endpoint_serves_every_metric_after_a_few_interactions(tmp_path):
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Rouge Fans")
        fake.add_guild("Other Server")
        admin = fake.add_member(guild, "Admin", manage_guild=True)
        viewer = fake.add_member(guild, "Viewer")
        spammer = fake.add_member(guild, "Spammer")
        general = guild.channels["general"]
        bot = await make_bot(
            tmp_path / "m.sqlite3",
            limits=Limits(burst=3, per_second=0.01),
            service=ServiceOptions(metrics_port=0),
        )
        assert isinstance(bot.metrics, Metrics) and bot.metrics.host == "127.0.0.1"
        async with fake.running(bot, wait_ready=True):
            assert bot.metrics._server.server_address[0] == "127.0.0.1"
            await fake.slash("character", {"name": "rouge"}, user=viewer, channel=general)
            await fake.slash("character", {"name": "naomi"}, user=admin, channel=general)
            await fake.autocomplete("lore", {"query": "ro"}, focused="query", user=viewer, channel=general)
            await fake.slash(
                "lore-admin fact", {"name": "rouge-redstar", "text": "Red.", "episode": 1}, user=admin, channel=general
            )
            await fake.slash("spoilers episode", {"number": 3}, user=viewer, channel=general, check_permissions=False)
            for _ in range(4):  # the fourth is over this bot's tiny bucket
                await fake.slash("episode", {"number": 1}, user=spammer, channel=general)
            bot.metrics.refresh()
            url = f"http://127.0.0.1:{bot.metrics.port}/metrics"
            async with aiohttp.ClientSession() as http, http.get(url) as resp:
                assert resp.status == 200
                text = await resp.text()

    assert value(text, "lorebot_interactions_total", command="character", outcome="ok") == 2
    assert value(text, "lorebot_interactions_total", command="lore-admin fact", outcome="ok") == 1
    assert value(text, "lorebot_interactions_total", command="spoilers episode", outcome="refused") == 1
    assert value(text, "lorebot_interactions_total", command="episode", outcome="rate_limited") == 1
    assert value(text, "lorebot_command_latency_seconds_count", command="character") == 2
    assert value(text, "lorebot_autocomplete_latency_seconds_count", command="lore") == 1
    assert value(text, "lorebot_errors_total", kind="AdminOnly") == 1
    assert value(text, "lorebot_errors_total", kind="RateLimited") == 1
    assert value(text, "lorebot_rate_limited_requests_total", limit="bucket") == 1
    assert value(text, "lorebot_db_write_seconds_count") >= 1
    assert value(text, "lorebot_guilds") == 2
    assert value(text, "lorebot_shards") == 1 and value(text, "lorebot_shards_ready") == 1
    assert value(text, "lorebot_lore_entries", scope="canon") == 11
    assert value(text, "lorebot_lore_entries", scope=f"guild:{guild.id}") == 1
    assert value(text, "lorebot_gateway_latency_seconds") >= 0
    assert "Rouge Redstar" not in text and "Red." not in text  # no lore text in the metrics


def test_without_a_port_metrics_cost_nothing():
    assert isinstance(make_metrics(None, None), NullMetrics)  # type: ignore[arg-type]
    assert not make_metrics(None, None).enabled  # type: ignore[arg-type]
