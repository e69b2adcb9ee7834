"""Settings from the environment or a .env file (pydantic-settings). The token is a secret."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.sharding import check_plan, parse_shard_ids


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr | None = Field(default=None, alias="DISCORD_TOKEN")
    #: an SQLite path (or ``sqlite:///`` URL) or a ``postgresql://`` URL: see :mod:`lore.storage`
    lorebot_db: str = Field(default="./lorebot.sqlite3", alias="LOREBOT_DB")
    lorebot_dev_guild: int | None = Field(default=None, alias="LOREBOT_DEV_GUILD")
    lorebot_owner_ids: Annotated[list[int], NoDecode] = Field(default_factory=list, alias="LOREBOT_OWNER_IDS")
    lorebot_shard_count: int | None = Field(default=None, alias="LOREBOT_SHARD_COUNT", ge=1)
    lorebot_shard_ids: Annotated[list[int] | None, NoDecode] = Field(default=None, alias="LOREBOT_SHARD_IDS")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")

    @field_validator("discord_token", "lorebot_dev_guild", "lorebot_shard_count", "lorebot_shard_ids", mode="before")
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


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
