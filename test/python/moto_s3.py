"""A moto S3 server on loopback and the fsspec options to reach it.

A module of its own rather than part of conftest: test files import these helpers, and
``from conftest import ...`` resolves to whichever of the suite's several conftest modules pytest
imported first when the whole suite is collected.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from dagspec_local.net import free_port
from testenv import S3_KEY, S3_SECRET


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    """A moto S3 server on a free loopback port, serving: ``(process, endpoint)``."""
    port = free_port()
    moto = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
            break
        except urllib.error.HTTPError:  # any HTTP answer means it is serving
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"moto_server did not start on port {port}")
            time.sleep(0.1)
    return proc, endpoint


def s3_options(endpoint: str) -> dict[str, Any]:
    return {
        "key": S3_KEY,
        "secret": S3_SECRET,
        "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"},
    }
