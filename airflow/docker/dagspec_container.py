"""The name of the container this process runs in, for Airflow's ``[core] hostname_callable``.

On the host network (airflow/docker-compose.hostnet.yaml) every container shares the machine's
hostname, so two Celery workers would record the same ``task_instance.hostname`` and announce the
same Celery node name. Docker names a container by its id, and a bridge-network container's hostname
is the id's first 12 characters; this returns those 12 characters on either network, read from the
files Docker mounts into every container (/etc/hostname, /etc/hosts), falling back to the hostname
outside Docker. ``python dagspec_container.py`` prints it (the worker's Celery node name).
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

_DOCKER_MOUNT = re.compile(r"/containers/([0-9a-f]{64})/(?:hostname|hosts|resolv\.conf) ")


def container_hostname() -> str:
    try:
        mounts = Path("/proc/self/mountinfo").read_text()
    except OSError:
        mounts = ""
    found = _DOCKER_MOUNT.search(mounts)
    return found.group(1)[:12] if found else socket.gethostname()


if __name__ == "__main__":
    print(container_hostname())
