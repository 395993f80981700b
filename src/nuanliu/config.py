"""Settings read from the environment (prefix ``NUANLIU_``), never at import time."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from nuanliu.errors import ConfigError

PLACEHOLDER_SECRET = "change-me"
ENVIRONMENTS = ("development", "test", "production")
# Values that mean "nobody set this": refused for secrets outside development.
PLACEHOLDERS = frozenset({"", "change-me", "changeme", "secret", "password", "nuanliu", "xxx"})
MIN_SECRET_CHARS = 32
MIN_TOKEN_CHARS = 24


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    data_dir: Path = Path("data")
    db_url: str = ""  # empty: DuckDB file under data_dir
    secret_key: str = PLACEHOLDER_SECRET
    timezone: str = "Asia/Shanghai"
    standard_temp_c: float = 18.0
    overheat_temp_c: float = 24.0
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    host: str = "127.0.0.1"
    port: int = 8000
    backup_dir: str = ""  # scheduled snapshots (job db_backup); empty: no scheduled backup
    backup_keep: int = 7
    metrics_token: str = ""  # bearer token for /metrics; empty: only the allow-list
    metrics_allow: str = "127.0.0.1/32,::1/128"  # client networks that may scrape /metrics
    # Components /readyz requires to be up (store always): "ingest", "scheduler".
    ready_require: str = "store"
    # Run the scheduler inside the API process: the single-process DuckDB set-up.
    scheduler_in_process: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def database_url(self) -> str:
        """The store URL: the configured one, or the embedded DuckDB file."""
        return self.db_url or f"duckdb:///{(self.data_dir / 'nuanliu.duckdb').resolve()}"

    def check(self) -> Settings:
        """Refuse settings that are wrong anywhere, and placeholder secrets outside
        development (a copied example file must not reach production)."""
        if self.env not in ENVIRONMENTS:
            raise ConfigError(f"NUANLIU_ENV={self.env!r} is not one of {', '.join(ENVIRONMENTS)}")
        self.metrics_networks()
        unknown = {p.strip() for p in self.ready_require.split(",") if p.strip()} - {
            "store",
            "ingest",
            "scheduler",
        }
        if unknown:
            raise ConfigError(
                f"NUANLIU_READY_REQUIRE names {', '.join(sorted(unknown))}; "
                "use store, ingest and/or scheduler"
            )
        if self.env == "development":
            return self
        if _placeholder(self.secret_key) or len(self.secret_key) < MIN_SECRET_CHARS:
            raise ConfigError(
                "NUANLIU_SECRET_KEY is a placeholder or shorter than "
                f"{MIN_SECRET_CHARS} characters; set a real secret outside development "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if self.db_url and _placeholder(_url_password(self.db_url), empty_ok=True):
            raise ConfigError("NUANLIU_DB_URL carries a placeholder password")
        if self.metrics_token and (
            _placeholder(self.metrics_token) or len(self.metrics_token) < MIN_TOKEN_CHARS
        ):
            raise ConfigError(
                f"NUANLIU_METRICS_TOKEN is a placeholder or shorter than {MIN_TOKEN_CHARS} "
                "characters"
            )
        return self

    def metrics_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """The client networks allowed to scrape ``/metrics`` without the token."""
        nets = []
        for part in self.metrics_allow.split(","):
            if not part.strip():
                continue
            try:
                nets.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError as exc:
                raise ConfigError(
                    f"NUANLIU_METRICS_ALLOW entry {part.strip()!r} is not an IP network"
                ) from exc
        return nets


def boolean(text: str) -> bool:
    low = text.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(text)


def _placeholder(value: str, *, empty_ok: bool = False) -> bool:
    if empty_ok and not value:
        return False
    low = value.strip().lower()
    return low in PLACEHOLDERS or "change-me" in low or "changeme" in low


def _url_password(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


def load_settings(environ: dict[str, str] | None = None, **overrides: object) -> Settings:
    """Build settings from ``environ`` (default ``os.environ``) plus explicit overrides."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    mapping = {
        "env": ("NUANLIU_ENV", str),
        "data_dir": ("NUANLIU_DATA_DIR", Path),
        "db_url": ("NUANLIU_DB_URL", str),
        "secret_key": ("NUANLIU_SECRET_KEY", str),
        "timezone": ("NUANLIU_TIMEZONE", str),
        "standard_temp_c": ("NUANLIU_STANDARD_TEMP_C", float),
        "overheat_temp_c": ("NUANLIU_OVERHEAT_TEMP_C", float),
        "mqtt_url": ("NUANLIU_MQTT_URL", str),
        "host": ("NUANLIU_HOST", str),
        "port": ("NUANLIU_PORT", int),
        "backup_dir": ("NUANLIU_BACKUP_DIR", str),
        "backup_keep": ("NUANLIU_BACKUP_KEEP", int),
        "metrics_token": ("NUANLIU_METRICS_TOKEN", str),
        "metrics_allow": ("NUANLIU_METRICS_ALLOW", str),
        "ready_require": ("NUANLIU_READY_REQUIRE", str),
        "scheduler_in_process": ("NUANLIU_SCHEDULER_IN_PROCESS", boolean),
    }
    for name, (var, kind) in mapping.items():
        if var in env:
            try:
                values[name] = kind(env[var])
            except ValueError as exc:
                raise ConfigError(f"{var}={env[var]!r} is not a valid {kind.__name__}") from exc
    values.update(overrides)
    return Settings(**values).check()  # type: ignore[arg-type]
