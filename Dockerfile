# newsbot's container image.
#
#   docker build -t newsbot .
#   docker run -d --name newsbot -v newsbot-data:/data --env-file .env newsbot
#
# Two stages on the same slim Python base: the first installs newsbot into /opt/newsbot
# with scripts/install.sh (the script `make` uses, so the image runs what the tests ran)
# and a C compiler for the matcher's compiled core; the second copies that environment
# alone, runs as an unprivileged user and keeps its database in the /data volume.
# HEALTHCHECK asks the running bot itself (`newsbot health`, /readyz on NEWSBOT_HTTP_PORT).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY scripts ./scripts
COPY bot ./bot
RUN sh scripts/install.sh /opt/newsbot
# The compiler is here, so the compiled core must have been built: fail the build if not.
RUN /opt/newsbot/bin/python -c "import bot.core.matching._matchcore"

FROM ${PYTHON_IMAGE}
RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin newsbot \
    && mkdir -p /data \
    && chown newsbot:newsbot /data
COPY --from=build /opt/newsbot /opt/newsbot
ENV PATH=/opt/newsbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite:////data/newsbot.db \
    NEWSBOT_HTTP_PORT=8080
WORKDIR /data
VOLUME ["/data"]
USER newsbot
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["newsbot", "health"]
CMD ["newsbot", "run"]
