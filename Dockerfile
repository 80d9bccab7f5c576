# Townsquare: one image for the web node, the media worker and the feed poller.
#   docker build -t townsquare .
#   docker run --env-file deploy/townsquare.env townsquare serve
# docs/deploy.md has the whole procedure; deploy/compose.yaml runs every part.

# 1. The pages' front-end files, from the exact versions in package-lock.json.
FROM node:22-bookworm-slim AS front
WORKDIR /src
COPY package.json package-lock.json ./
RUN SCARF_ANALYTICS=false npm ci --omit=dev --no-audit --no-fund --loglevel=error

# 2. The wheel (setup.py vendors node_modules/ into it).
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY . .
COPY --from=front /src/node_modules ./node_modules
RUN pip install --no-cache-dir build && python -m build --wheel --outdir /dist

# 3. The runtime: Python, ffmpeg/ffprobe (clips are re-encoded and checked), the wheel.
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/townsquare --create-home townsquare
COPY --from=build /dist/*.whl /tmp/
COPY constraints.txt /tmp/
RUN pip install --no-cache-dir -c /tmp/constraints.txt "$(ls /tmp/*.whl)[s3,otel]" && rm /tmp/*.whl
USER townsquare
ENV TOWNSQUARE_DATA_DIR=/var/lib/townsquare TOWNSQUARE_HOST=0.0.0.0 TOWNSQUARE_PORT=8000
EXPOSE 8000
HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"]
ENTRYPOINT ["townsquare"]
CMD ["serve"]
