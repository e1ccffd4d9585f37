# dagspec-offline/redis:7: the Celery broker of airflow/docker-compose.yaml where the official redis
# image cannot be pulled. Bookworm's Redis 7 (see ../offline-base.sh); like the official image it
# runs `redis-server` with protected mode off (the compose file decides where it listens) and
# answers `redis-cli ping` for the health check.
ARG ROOTFS
FROM ${ROOTFS}

USER redis
WORKDIR /var/lib/redis
CMD ["redis-server", "--protected-mode", "no"]
