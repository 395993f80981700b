"""Store URLs: ``duckdb:///abs/path.duckdb``, ``duckdb:///:memory:``,
``postgresql://host:port/db[?schema=name]``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from nuanliu.errors import InvalidInput

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# Query parameters the store consumes itself; everything else goes to libpq.
_STORE_PARAMS = {"schema", "pool_size"}


@dataclass(frozen=True)
class StoreUrl:
    engine: str  # "duckdb" | "postgresql"
    path: str = ""  # DuckDB: file path or ":memory:"
    conninfo: str = ""  # PostgreSQL: libpq URI without the store's own parameters
    schema: str | None = None  # PostgreSQL: schema holding every table
    pool_size: int = 8  # PostgreSQL: reader connections at most

    def redacted(self) -> str:
        """The URL for logs and ``db info``: no password."""
        if self.engine == "duckdb":
            return f"duckdb:///{self.path}" if self.path == ":memory:" else f"duckdb://{self.path}"
        parts = urlsplit(self.conninfo)
        netloc = parts.netloc
        if "@" in netloc:
            creds, host = netloc.rsplit("@", 1)
            user = creds.split(":", 1)[0]
            netloc = f"{user}:***@{host}" if ":" in creds else f"{user}@{host}"
        query = f"schema={self.schema}" if self.schema else ""
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def parse_url(url: str) -> StoreUrl:
    """Split a store URL into what the engine needs; reject anything else with a reason."""
    if url.startswith("duckdb://"):
        rest = url[len("duckdb://") :]
        if rest in ("", "/", "/:memory:", ":memory:"):
            return StoreUrl(engine="duckdb", path=":memory:")
        if not rest.startswith("/"):
            raise InvalidInput(
                f"DuckDB URL {url!r} must name an absolute path: duckdb:///abs/path.duckdb"
            )
        # duckdb:////abs/path (a URL built from an absolute path) means /abs/path too.
        return StoreUrl(engine="duckdb", path=str(Path("/" + rest.lstrip("/"))))
    if url.startswith(("postgresql://", "postgres://")):
        parts = urlsplit(url)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        schema = params.get("schema") or None
        if schema is not None and not _IDENTIFIER.match(schema):
            raise InvalidInput(f"schema {schema!r} in store URL is not a plain SQL identifier")
        try:
            pool_size = int(params.get("pool_size", "8"))
        except ValueError as exc:
            raise InvalidInput(f"pool_size in store URL {url!r} is not an integer") from exc
        libpq = [(k, v) for k, v in parse_qsl(parts.query) if k not in _STORE_PARAMS]
        conninfo = urlunsplit(
            ("postgresql", parts.netloc, parts.path, urlencode(libpq), parts.fragment)
        )
        return StoreUrl(
            engine="postgresql", conninfo=conninfo, schema=schema, pool_size=max(1, pool_size)
        )
    raise InvalidInput(
        f"store URL {url!r} is not supported; use duckdb:///path.duckdb or postgresql://host/db"
    )
