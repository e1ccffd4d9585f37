"""Keys a stack generates once and keeps (owner-only file): restarts keep sessions, tokens and the
Fernet key that encrypts connection passwords in the metadata database."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path


def _write_private(path: Path, data: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)


def stack_secrets(home: Path) -> dict[str, str]:
    """The ``AIRFLOW__*`` secrets of the stack at ``home``, generated on first use."""
    path = home / "secrets.json"
    if not path.exists():
        from cryptography.fernet import Fernet

        _write_private(
            path,
            {
                "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
                "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),  # HS512 wants >= 64 bytes
            },
        )
    return dict(json.loads(path.read_text()))


def write_passwords(home: Path, user: str, password: str) -> Path:
    """SimpleAuthManager's passwords file: ``{user: password}``."""
    path = home / "passwords.json"
    _write_private(path, {user: password})
    return path


def read_password(home: Path, user: str) -> str:
    return str(json.loads((home / "passwords.json").read_text())[user])
