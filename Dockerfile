# ioffice service image. Default command: the production path (migrate, then serve with one worker
# per CPU). The agency and its administrator are created once with `ioffice org create` and
# `ioffice user create --role admin --password-stdin` (see README, "Production").
FROM python:3.11.13-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends softhsm2 opensc poppler-utils curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Pinned dependencies first (a layer that changes only with the lock file).
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY pyproject.toml README.md ./
COPY ioffice ioffice
COPY signing signing
COPY storage storage
COPY certs certs
COPY api api
RUN pip install --no-cache-dir --no-deps . && useradd --system --home /data ioffice && mkdir -p /data && chown ioffice /data
USER ioffice
ENV IOFFICE_DATA_DIR=/data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
  CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
CMD ["sh", "-c", "ioffice init && exec ioffice serve --host 0.0.0.0 --port 8000"]
