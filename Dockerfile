# One image for every process of the system (API, workers, beat, Flower, migrations);
# docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    API_HOST=0.0.0.0 \
    FLOWER_ADDRESS=0.0.0.0 \
    WORKER_METRICS_ADDRESS=0.0.0.0 \
    WORKER_METRICS_PORT=9100 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Not root: a worker needs no privilege, and Celery warns on every start as root.
RUN useradd --system --uid 10001 --home-dir /app wallet && mkdir -p /app/.dev && chown wallet /app/.dev
USER wallet

# 9100: a Celery worker's own /metrics (docs/deploy.md, "Metrics").
EXPOSE 8000 5555 9100
CMD ["gunicorn", "-c", "api/gunicorn_conf.py", "api.wsgi:app"]
