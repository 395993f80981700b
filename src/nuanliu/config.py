"""Settings read from the environment (prefix ``NUANLIU_``), never at import time."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from nuanliu.errors import ConfigError

PLACEHOLDER_SECRET = "change-me"


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
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def database_url(self) -> str:
        """The store URL: the configured one, or the embedded DuckDB file."""
        return self.db_url or f"duckdb:///{(self.data_dir / 'nuanliu.duckdb').resolve()}"

    def check(self) -> Settings:
        if self.env != "development" and self.secret_key == PLACEHOLDER_SECRET:
            raise ConfigError(
                "NUANLIU_SECRET_KEY is the placeholder; set a real secret outside development"
            )
        return self


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
    }
    for name, (var, kind) in mapping.items():
        if var in env:
            try:
                values[name] = kind(env[var])
            except ValueError as exc:
                raise ConfigError(f"{var}={env[var]!r} is not a valid {kind.__name__}") from exc
    values.update(overrides)
    return Settings(**values).check()  # type: ignore[arg-type]
