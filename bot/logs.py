"""Logging: ``discord.utils.setup_logging`` for the console, a rotating file when asked, and no secret
in any line.

``LOREBOT_LOG_FILE`` adds a ``RotatingFileHandler`` (``LOREBOT_LOG_MAX_BYTES`` per file,
``LOREBOT_LOG_BACKUPS`` old files kept). Every handler's formatter is wrapped so that the token
(and anything else passed as a secret) is replaced in the final text, tracebacks included.
"""

from __future__ import annotations

import logging
import logging.handlers
from collections.abc import Iterable
from pathlib import Path

import discord

FILE_FORMAT = "[{asctime}] [{levelname:<8}] {name}: {message}"
REDACTED = "[redacted]"


class RedactingFormatter(logging.Formatter):
    """Formats with ``inner``, then blanks out every secret in the result."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]):
        super().__init__()
        self.inner = inner
        self.secrets = [s for s in secrets if s and len(s) >= 8]

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


def setup(
    level: int,
    *,
    log_file: Path | None = None,
    max_bytes: int = 10 * 1024 * 1024,
    backups: int = 5,
    secrets: Iterable[str] = (),
) -> logging.handlers.RotatingFileHandler | None:
    """Configure the root logger; returns the file handler, if one was added."""
    discord.utils.setup_logging(level=level, root=True)
    root = logging.getLogger()
    file_handler = None
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
        file_handler.setFormatter(logging.Formatter(FILE_FORMAT, "%Y-%m-%d %H:%M:%S", style="{"))
        root.addHandler(file_handler)
    secrets = list(secrets)
    for handler in root.handlers:
        inner = handler.formatter or logging.Formatter()
        if not isinstance(inner, RedactingFormatter):
            handler.setFormatter(RedactingFormatter(inner, secrets))
    return file_handler
