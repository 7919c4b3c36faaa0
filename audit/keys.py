"""Granskningsnyckeln: the audit trail's key, kept outside the database.

The chain of the audit trail and its checkpoints are signed with HMAC-SHA256 under this key, so
that whoever can write the database but does not have the key can neither recompute the chain
after a change nor forge an event or a checkpoint that ``verify`` accepts.

Where the key comes from, in order:

1. ``HALSOVAL_AUDIT_KEY`` (at least 32 characters) -- for a deployment that keeps secrets in
   its service manager;
2. the file ``audit_key`` in the instance directory (``HALSOVAL_INSTANCE``, default
   ``instance/``), created with mode 0600 and 32 random bytes on first use.

The key's *id* (a keyed digest of a constant, not the key) is stored with every signed row, so
rows signed before the key existed (``key_id`` NULL: plain SHA-256, revision 0009) and rows
signed with another key are told apart from tampering.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from audit.db import PROJECT_ROOT

AUDIT_KEY_ENV = "HALSOVAL_AUDIT_KEY"
INSTANCE_ENV = "HALSOVAL_INSTANCE"
KEY_FILE_NAME = "audit_key"
MIN_KEY_LENGTH = 32


class AuditKeyError(RuntimeError):
    """The key is unusable (too short, unreadable); the message is Swedish."""


@dataclasses.dataclass(frozen=True)
class AuditKey:
    """The key and its public id."""

    secret: bytes = dataclasses.field(repr=False)
    id: str

    def sign(self, purpose: str, message: str) -> str:
        """HMAC-SHA256 of ``message`` under the key, separated by ``purpose``."""
        data = purpose.encode("ascii") + b"\0" + message.encode("utf-8")
        return hmac.new(self.secret, data, hashlib.sha256).hexdigest()


def make_key(secret: bytes) -> AuditKey:
    key_id = hmac.new(secret, b"halsoval audit key id", hashlib.sha256).hexdigest()[:16]
    return AuditKey(secret=secret, id=key_id)


def instance_dir() -> Path:
    """The instance directory: ``HALSOVAL_INSTANCE`` or ``instance/`` of the project."""
    return Path(os.environ.get(INSTANCE_ENV) or PROJECT_ROOT / "instance")


def key_file() -> Path:
    return instance_dir() / KEY_FILE_NAME


def load_key_file(path: Path) -> AuditKey:
    """The key in ``path``, created (0600, 32 random bytes as hex) if it does not exist.

    Created under a temporary name and linked into place, so that two processes starting at
    once agree on one key and neither ever reads a half-written file.
    """
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process was first: use its key
        finally:
            temporary.unlink()
        text = path.read_text().strip()
    if len(text) < MIN_KEY_LENGTH:
        raise AuditKeyError(f"Granskningsnyckeln i {path} är för kort.")
    return make_key(text.encode("utf-8"))


_cache: dict[tuple[str | None, str], AuditKey] = {}


def audit_key() -> AuditKey:
    """The audit trail's key (see the module docstring), read once per source."""
    env = os.environ.get(AUDIT_KEY_ENV)
    source = (env, "" if env else str(key_file()))
    key = _cache.get(source)
    if key is None:
        if env is not None:
            if len(env) < MIN_KEY_LENGTH:
                raise AuditKeyError(
                    f"{AUDIT_KEY_ENV} måste vara minst {MIN_KEY_LENGTH} tecken lång."
                )
            key = make_key(env.encode("utf-8"))
        else:
            key = load_key_file(Path(source[1]))
        _cache[source] = key
    return key
