# syntax=docker/dockerfile:1
# lorebot: a two-stage image. The builder installs the package (with the metrics extra) into a
# virtual environment; the runtime stage copies only that environment and runs as a non-root user,
# with the database on the /data volume and a health check that reflects the gateway connection.
#
#   docker build -t lorebot .
#   docker run -d --name lorebot --env-file .env -v lorebot-data:/data lorebot
#
# (Not built in this project's CI: no container engine runs there. See "Running in production".)

FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY lore ./lore
COPY bot ./bot
COPY fakediscord ./fakediscord
RUN python -m venv /opt/lorebot \
 && /opt/lorebot/bin/pip install --upgrade pip \
 && /opt/lorebot/bin/pip install '.[metrics]'

FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home --shell /usr/sbin/nologin lorebot \
 && mkdir -p /data && chown lorebot:lorebot /data
COPY --from=builder /opt/lorebot /opt/lorebot
ENV PATH=/opt/lorebot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    LOREBOT_DB=/data/lorebot.sqlite3
USER lorebot
WORKDIR /data
VOLUME ["/data"]
# Healthy only while connected to Discord with every shard ready (the bot rewrites its heartbeat
# every LOREBOT_HEARTBEAT_INTERVAL seconds; older than LOREBOT_HEALTH_MAX_AGE counts as stuck).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["lorebot", "health"]
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot"]
