"""Where a database URI points and whose login it carries (shared by the protocol checks)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from scanner.validate.result import Candidate

PROVIDER = "db-connection"
DEFAULT_PORTS = {"postgres": 5432, "postgresql": 5432, "mysql": 3306, "mariadb": 3306}


@dataclass(frozen=True)
class DatabaseTarget:
    scheme: str
    host: str
    port: int
    user: str
    password: str
    database: str

    @property
    def display(self) -> str:
        """The URI without its password, as recorded."""
        return f"{self.scheme}://{self.user}@{self.host}:{self.port}/{self.database}"


def target_of(candidate: Candidate) -> DatabaseTarget | None:
    """The URI's parts (the secret is the password; the URI comes as `uri` beside it), None if not supported."""
    uri = candidate.group("uri", "url") or ""
    parts = urlsplit(uri.removeprefix("jdbc:"))
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    user = unquote(parts.username or candidate.group("user") or ("postgres" if scheme.startswith("postgres") else "root"))
    return DatabaseTarget(
        scheme="postgres" if scheme.startswith("postgres") else "mysql",
        host=parts.hostname,
        port=parts.port or DEFAULT_PORTS[scheme],
        user=user,
        password=unquote(parts.password) if parts.password else candidate.secret,
        database=unquote(parts.path.lstrip("/")) or (user if scheme.startswith("postgres") else ""),
    )
