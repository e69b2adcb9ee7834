"""Settings from the environment or a .env file (pydantic-settings). The token is a secret."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.sharding import check_plan, parse_shard_ids

MIB = 1024 * 1024


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr | None = Field(default=None, alias="DISCORD_TOKEN")
    #: an SQLite path (or ``sqlite:///`` URL) or a ``postgresql://`` URL: see :mod:`lore.storage`
    lorebot_db: str = Field(default="./lorebot.sqlite3", alias="LOREBOT_DB")
    #: the canon pack that defines the franchise (default: the pack lorebot ships, lore/packs/canon.yaml)
    lorebot_pack: Path | None = Field(default=None, alias="LOREBOT_PACK")
    lorebot_dev_guild: int | None = Field(default=None, alias="LOREBOT_DEV_GUILD")
    lorebot_owner_ids: Annotated[list[int], NoDecode] = Field(default_factory=list, alias="LOREBOT_OWNER_IDS")
    lorebot_shard_count: int | None = Field(default=None, alias="LOREBOT_SHARD_COUNT", ge=1)
    lorebot_shard_ids: Annotated[list[int] | None, NoDecode] = Field(default=None, alias="LOREBOT_SHARD_IDS")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")

    # -- running as a service (see "Running in production" in the README) ------------------------
    log_file: Path | None = Field(default=None, alias="LOREBOT_LOG_FILE")
    log_max_bytes: int = Field(default=10 * MIB, ge=1024, alias="LOREBOT_LOG_MAX_BYTES")
    log_backups: int = Field(default=5, ge=1, le=1000, alias="LOREBOT_LOG_BACKUPS")
    heartbeat_file: Path | None = Field(default=None, alias="LOREBOT_HEARTBEAT_FILE")
    heartbeat_interval: float = Field(default=10.0, gt=0, le=3600, alias="LOREBOT_HEARTBEAT_INTERVAL")
    health_max_age: float = Field(default=60.0, gt=0, alias="LOREBOT_HEALTH_MAX_AGE")
    metrics_port: int | None = Field(default=None, ge=0, le=65535, alias="LOREBOT_METRICS_PORT")
    metrics_host: str = Field(default="127.0.0.1", alias="LOREBOT_METRICS_HOST")
    #: Seconds between two looks at the spoiler schedules (an episode opens at most this late).
    schedule_interval: float = Field(default=20.0, gt=0, le=3600, alias="LOREBOT_SCHEDULE_INTERVAL")

    # -- limits (LOREBOT_LIMITS=off switches every one of them off) -------------------------------
    limits: bool = Field(default=True, alias="LOREBOT_LIMITS")
    rate_burst: int = Field(default=30, ge=1, alias="LOREBOT_RATE_BURST")
    rate_per_second: float = Field(default=10.0, gt=0, alias="LOREBOT_RATE_PER_SECOND")
    cooldown_search: str = Field(default="6/30", alias="LOREBOT_COOLDOWN_SEARCH")
    cooldown_import: str = Field(default="3/60", alias="LOREBOT_COOLDOWN_IMPORT")
    cooldown_export: str = Field(default="3/60", alias="LOREBOT_COOLDOWN_EXPORT")
    cooldown_pictures: str = Field(default="4/30", alias="LOREBOT_COOLDOWN_PICTURES")
    max_query: int = Field(default=100, ge=1, le=6000, alias="LOREBOT_MAX_QUERY")
    quota_entries: int = Field(default=5000, ge=0, alias="LOREBOT_QUOTA_ENTRIES")
    quota_revisions: int = Field(default=100_000, ge=0, alias="LOREBOT_QUOTA_REVISIONS")
    quota_import_bytes: int = Field(default=8 * MIB, ge=0, alias="LOREBOT_QUOTA_IMPORT_BYTES")

    @field_validator(
        "discord_token",
        "lorebot_dev_guild",
        "lorebot_shard_count",
        "lorebot_shard_ids",
        "log_file",
        "heartbeat_file",
        "metrics_port",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("lorebot_owner_ids", mode="before")
    @classmethod
    def _split_ids(cls, v: object) -> object:
        if isinstance(v, str):
            return [int(p) for p in v.replace(" ", "").split(",") if p]
        return v

    @field_validator("lorebot_db", mode="before")
    @classmethod
    def _db(cls, v: object) -> object:
        if isinstance(v, Path):
            return str(v)
        if isinstance(v, str) and not v.strip():
            return "./lorebot.sqlite3"
        return v.strip() if isinstance(v, str) else v

    @field_validator("lorebot_shard_ids", mode="before")
    @classmethod
    def _shard_ids(cls, v: object) -> object:
        if isinstance(v, str):
            return parse_shard_ids(v) if v.strip() else None
        return v

    @model_validator(mode="after")
    def _shard_plan(self) -> Settings:
        check_plan(self.lorebot_shard_count, self.lorebot_shard_ids)
        return self

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        v = v.strip().upper() or "INFO"
        if v not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return v

    @field_validator("cooldown_search", "cooldown_import", "cooldown_export", "cooldown_pictures")
    @classmethod
    def _cooldown(cls, v: str) -> str:
        from bot.ratelimit import parse_cooldown

        parse_cooldown(v)  # raises ValueError with a readable reason
        return v.strip()

    @property
    def heartbeat_path(self) -> Path:
        """Where the running bot writes its heartbeat (and ``lorebot health`` reads it)."""
        if self.heartbeat_file is not None:
            return self.heartbeat_file
        from lore import SQLITE, parse_target

        target = parse_target(self.lorebot_db)
        if target.backend == SQLITE and target.location != ":memory:":
            return Path(f"{target.location}-heartbeat")
        return Path("lorebot-heartbeat")  # a PostgreSQL database: in the working directory

    @property
    def canon_pack(self) -> Path:
        """The canon pack to serve: ``LOREBOT_PACK``, else the one lorebot ships."""
        from lore import CANON_PACK_PATH

        return self.lorebot_pack or CANON_PACK_PATH


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
