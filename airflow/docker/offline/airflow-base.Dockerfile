# dagspec-offline/airflow-base: a stand-in for the official apache/airflow image's base contract,
# made from Debian bookworm packages (see ../offline-base.sh), for building airflow/Dockerfile where
# no image registry answers:
#   - user airflow, uid 50000, gid 0 (root group), home /home/airflow;
#   - AIRFLOW_HOME=/opt/airflow, the working directory;
#   - pip installs into /home/airflow/.local (here a venv of bookworm's python3.11), whose bin/ is
#     first on PATH, so `airflow`, `dbt` and `celery` are where the official image has them;
#   - ENTRYPOINT ["/usr/bin/dumb-init", "--", "/entrypoint"]: `airflow ...`, `bash ...` or any
#     command runs as given, an airflow sub-command alone (`scheduler`) runs as `airflow scheduler`.
# Airflow itself is not here: airflow/Dockerfile installs exactly airflow/requirements.lock.
ARG ROOTFS
FROM ${ROOTFS}

ENV AIRFLOW_HOME=/opt/airflow \
    AIRFLOW_USER_HOME_DIR=/home/airflow \
    LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/home/airflow/.local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

COPY entrypoint /entrypoint
RUN useradd --uid 50000 --gid 0 --home-dir /home/airflow --create-home --shell /bin/bash airflow \
    && mkdir -p /opt/airflow \
    && chown -R airflow:0 /opt/airflow \
    && chmod 0755 /entrypoint \
    && su airflow -c 'python3 -m venv /home/airflow/.local'

USER 50000
WORKDIR /opt/airflow
ENTRYPOINT ["/usr/bin/dumb-init", "--", "/entrypoint"]
CMD []
