# One image for the five services; the command picks which one runs:
#   pronto-ingest | pronto-routing | pronto-sla | pronto-notify | pronto-query
#   (and `pronto topics` to provision, `pronto-query rebuild` to rebuild the read models)
# PRONTO_SERVICE tells the health check which service's /healthz to ask.
# No Docker engine runs where Pronto is developed: this file is checked statically
# (tests/unit/deploy/test_dockerfile.py) and was never built there.

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY pronto ./pronto
COPY pronto_tools ./pronto_tools
COPY services ./services
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
RUN groupadd --system --gid 10001 pronto \
 && useradd --system --uid 10001 --gid pronto --home-dir /var/lib/pronto --shell /usr/sbin/nologin pronto \
 && install --directory --owner pronto --group pronto /var/lib/pronto
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl && rm -rf /wheels
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PRONTO_SERVICE=ingest \
    PRONTO_NOTIFY_JOURNAL=/var/lib/pronto/notify-delivered.journal
# Faust keeps its small state directory in the working directory: a volume in compose and Kubernetes.
WORKDIR /var/lib/pronto
USER 10001:10001
EXPOSE 50051 8080 8081 8082 8083
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 CMD ["pronto-healthcheck"]
CMD ["pronto-ingest"]
