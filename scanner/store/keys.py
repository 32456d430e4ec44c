"""The credential key: HMAC-SHA256 of the normalized secret under the organisation's key.

Every scan, repository and machine that shares the key computes the same value for the same
credential, so the datastore and the inventory can name a credential without holding it.
The key comes from SPRAWL_FINGERPRINT_KEY, else from a key file (--key-file or
SPRAWL_FINGERPRINT_KEY_FILE), else from a local key generated mode 0600 on first use
($XDG_CONFIG_HOME/sprawl/fingerprint.key, ~/.config by default).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import tempfile
from pathlib import Path

from scanner.errors import SprawlError

ENV_KEY = "SPRAWL_FINGERPRINT_KEY"
ENV_KEY_FILE = "SPRAWL_FINGERPRINT_KEY_FILE"
_PEM_BODY = re.compile(r"\s+")


class FingerprintKeyError(SprawlError):
    """The fingerprint key cannot be read or created."""


def default_key_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "sprawl" / "fingerprint.key"


def load_key(key_file: str | Path | None = None) -> bytes:
    if key_file is None and (value := os.environ.get(ENV_KEY)):
        return value.encode()
    path = Path(key_file or os.environ.get(ENV_KEY_FILE) or default_key_file())
    explicit = key_file is not None or ENV_KEY_FILE in os.environ
    try:
        data = path.read_bytes().strip()
    except FileNotFoundError:
        if explicit:
            raise FingerprintKeyError(f"fingerprint key file not found: {path}") from None
        return _generate(path)
    except OSError as exc:
        raise FingerprintKeyError(f"cannot read fingerprint key file {path}: {exc.strerror}") from None
    if not data:
        raise FingerprintKeyError(f"fingerprint key file is empty: {path}")
    return data


def existing_key(key_file: str | Path | None = None) -> bytes | None:
    """The organisation key if one is set or its file exists; None rather than generating one."""
    if key_file is None and os.environ.get(ENV_KEY):
        return load_key()
    path = Path(key_file or os.environ.get(ENV_KEY_FILE) or default_key_file())
    return load_key(key_file) if path.exists() else None


def _generate(path: Path) -> bytes:
    """A new local key, published whole: written mode 0600 to a temporary file in the same folder, then
    hard-linked to its name (os.link fails if the name exists, where rename would replace it). No reader
    ever sees an empty or partial key file, and of processes racing on a first run the first link wins
    and the others read its key (tests/test_store_reliability.py::test_racing_first_runs_agree_on_the_key)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_hex(32).encode()
    fd, tmp = tempfile.mkstemp(prefix=".fingerprint-", suffix=".tmp", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(key + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            data = path.read_bytes().strip()
            if not data:
                raise FingerprintKeyError(f"fingerprint key file is empty: {path}") from None
            return data
        except OSError:
            # A file system without hard links: rename is atomic too, but replaces a key another
            # process published meanwhile; publish ours only if the name is still free.
            if path.exists():
                return path.read_bytes().strip()
            os.replace(tmp, path)
            return path.read_bytes().strip()
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
    return key


def normalize(secret: str) -> str:
    """The same credential written differently (CRLF, re-wrapped PEM, stray spaces) keys the same."""
    s = secret.strip().replace("\r\n", "\n")
    if s.startswith("-----BEGIN"):
        lines = s.split("\n")
        head, tail = lines[0].strip(), lines[-1].strip()
        body = [ln.strip() for ln in lines[1:-1]]
        headers = [ln for ln in body if ":" in ln]  # e.g. Proc-Type in encrypted PEM
        return "\n".join([head, *headers, _PEM_BODY.sub("", "".join(ln for ln in body if ":" not in ln)), tail])
    return s


def credential_key(secret: str, key: bytes) -> str:
    return hmac.new(key, normalize(secret).encode(), hashlib.sha256).hexdigest()


def keyed_fingerprint(portable: str, key: bytes) -> str:
    """What the datastore keeps of a finding's portable fingerprint (scanner.findings.collect.portable_fingerprint):
    HMAC-SHA256 of it under the organisation key, as long as it. The portable value is a plain hash of the secret
    (a weak password is guessed from it in a millisecond), so the datastore never stores it; a user who gives it
    whole is matched by keying it again (Store.resolve_fingerprint;
    tests/test_store_fingerprints.py::test_the_datastore_holds_no_unkeyed_fingerprint)."""
    return hmac.new(key, b"portable\x00" + portable.encode(), hashlib.sha256).hexdigest()[:len(portable)]


def key_id(key: bytes) -> str:
    """Identifies the key without revealing it, so a datastore can refuse a different key."""
    return hmac.new(key, b"secret-sprawl key id", hashlib.sha256).hexdigest()[:16]
