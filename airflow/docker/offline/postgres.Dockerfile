# dagspec-offline/postgres:15: the metadata database of airflow/docker-compose.yaml where the
# official postgres image cannot be pulled. Bookworm's PostgreSQL 15 (see ../offline-base.sh), with
# the official image's interface for what the compose file uses: POSTGRES_USER, POSTGRES_PASSWORD,
# POSTGRES_DB make the cluster on first start in PGDATA (a volume); PGPORT picks the port;
# `postgres -c name=value ...` as the command; pg_isready for the health check.
ARG ROOTFS
FROM ${ROOTFS}

ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PGDATA=/var/lib/postgresql/data \
    LANG=C.UTF-8

COPY postgres-entrypoint /usr/local/bin/docker-entrypoint.sh
RUN chmod 0755 /usr/local/bin/docker-entrypoint.sh \
    && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql \
    && chmod 0700 /var/lib/postgresql/data

USER postgres
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
