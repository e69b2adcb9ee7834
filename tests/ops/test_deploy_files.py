"""The Dockerfile, compose file and systemd unit: no container engine or systemd runs here, so these
check what can be checked — the files say what a host expects, and every command they call exists
in this package and works (`python -m bot --help`, `lorebot health`)."""

from __future__ import annotations

import configparser
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from bot.cli import build_parser
from bot.runner import EXIT_RESTART

ROOT = Path(__file__).resolve().parents[2]


def dockerfile() -> list[tuple[str, str]]:
    lines = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8")).splitlines()
    out = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_the_dockerfile_is_two_stage_non_root_with_a_volume_and_a_real_health_check():
    steps = dockerfile()
    stages = [rest for word, rest in steps if word == "FROM"]
    assert len(stages) == 2 and stages[0].endswith(" AS builder")
    runtime = steps[[i for i, (w, _) in enumerate(steps) if w == "FROM"][1] :]
    words = dict(runtime)
    assert "--from=builder" in words["COPY"]
    assert words["USER"] not in ("root", "0") and "useradd --system --uid 10001 --user-group" in words["RUN"]
    assert json.loads(words["VOLUME"]) == ["/data"]
    assert "LOREBOT_DB=/data/" in words["ENV"]
    assert json.loads(words["CMD"]) == ["python", "-m", "bot"]
    check = words["HEALTHCHECK"]
    assert json.loads(check.split(" CMD ", 1)[1]) == ["lorebot", "health"]
    for word, rest in steps:  # everything the builder copies is in the repository
        if word == "COPY" and not rest.startswith("--from"):
            for src in rest.split()[:-1]:
                assert (ROOT / src).exists(), src


def test_the_commands_the_image_and_unit_call_exist_and_work(tmp_path):
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["lorebot"] == "bot.cli:main"
    assert "metrics" in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"run", "health", "db"} <= set(commands)
    env = {"PATH": "/usr/bin:/bin", "LOREBOT_DB": str(tmp_path / "x.sqlite3")}
    proc = subprocess.run([sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0 and "lorebot run" in proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "health"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert proc.returncode == 1 and proc.stdout.startswith("unhealthy: no heartbeat")


def test_compose_restarts_limits_logs_and_keeps_the_data_on_a_volume():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    bot = compose["services"]["lorebot"]
    assert bot["restart"] == "unless-stopped"
    assert bot["env_file"] == ".env"  # the token comes from .env, never from the file itself
    assert "DISCORD_TOKEN" not in json.dumps(bot.get("environment", {}))
    volume, _, mount = bot["volumes"][0].partition(":")
    assert volume in compose["volumes"] and bot["environment"]["LOREBOT_DB"].startswith(mount + "/")
    assert bot["logging"]["options"] == {"max-size": "10m", "max-file": "5"}
    pg = compose["services"]["postgres"]
    assert pg["profiles"] == ["postgres"] and "pg_isready" in " ".join(pg["healthcheck"]["test"])
    on_pg = compose["services"]["lorebot-pg"]
    assert on_pg["profiles"] == ["postgres"] and on_pg["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert on_pg["environment"]["LOREBOT_DB"].startswith("postgresql://lorebot:${POSTGRES_PASSWORD")


def test_the_systemd_unit_restarts_on_the_restart_status_as_a_dedicated_user():
    unit = configparser.ConfigParser(strict=True, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(ROOT / "deploy" / "lorebot.service", encoding="utf-8")
    service = unit["Service"]
    assert service["User"] == "lorebot" and service["Group"] == "lorebot"
    assert service["EnvironmentFile"].startswith("/etc/lorebot/")
    assert service["ExecStart"].endswith(" -m bot")
    assert service["Restart"] == "on-abnormal"
    assert service["RestartForceExitStatus"] == str(EXIT_RESTART) == "26"
    assert service["KillSignal"] == "SIGTERM" and service["NoNewPrivileges"] == "true"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
