# Sendmako's image: Debian 12 (neonize's Go library needs glibc 2.34 or newer), Python from
# Debian, the app in a virtualenv, run as a non-root user, data in a volume.
#
# The Python packages are installed from wheels built beforehand, without network access
# during the build (the registry may be out of reach, and the image gets exactly what was
# tested). `make image` does both steps:
#     deploy/wheelhouse.sh             # the wheels, for Debian 12's Python
#     docker build -t sendmako .        # or: podman build --isolation chroot -t sendmako .
# BASE can point at a locally made Debian 12 image (`--build-arg BASE=localhost/debian:bookworm`).
ARG BASE=debian:bookworm-slim

# Debian's packages are left unpinned on purpose: the image takes bookworm's security updates.
FROM ${BASE} AS build
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
COPY wheelhouse/ /wheelhouse/
RUN python3 -m venv /opt/sendmako \
    && /opt/sendmako/bin/pip install --no-cache-dir --no-index --find-links /wheelhouse sendmako

FROM ${BASE}
# ca-certificates: TLS to WhatsApp's media hosts and to webhook URLs; libmagic1: file-type
# sniffing by neonize's dependencies.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 ca-certificates libmagic1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home sendmako \
    && mkdir /data && chown sendmako:sendmako /data
COPY --from=build /opt/sendmako /opt/sendmako

ENV PATH=/opt/sendmako/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SENDMAKO_DATA_DIR=/data \
    SENDMAKO_HOST=0.0.0.0 \
    SENDMAKO_PORT=8000 \
    SENDMAKO_LOG_FORMAT=json
# Numeric, so the user is known without /etc/passwd (Kubernetes' runAsNonRoot checks it).
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
# /health answers 503 when the database is out of reach; the check uses the app's own
# Python, as the image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('SENDMAKO_PORT', '8000') + '/health', timeout=4)"]
ENTRYPOINT ["sendmako"]
CMD ["serve"]
