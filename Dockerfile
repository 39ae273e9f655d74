# Multi-stage: build wheels with the compilers, run on a slim image as a non-root user.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml setup.py README.md ./
COPY proto ./proto
COPY gen ./gen
COPY common ./common
COPY analytics_svc ./analytics_svc
COPY reco_svc ./reco_svc
COPY feedback_svc ./feedback_svc
COPY gateway ./gateway
COPY system ./system
COPY simulator ./simulator
COPY tools ./tools
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 SV_HOST=0.0.0.0 SV_LOG_FORMAT=json
RUN useradd --uid 10001 --create-home --shell /usr/sbin/nologin storyverse
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER 10001
WORKDIR /home/storyverse
EXPOSE 50051 50052 50053 8080
# The command is set per workload in k8s/ (python -m analytics_svc, reco_svc, ...).
CMD ["python", "-m", "gateway"]
