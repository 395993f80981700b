"""`nuanliu ingest FILE` starts fast: it imports only the files path and checks the
schema version instead of re-running the migrations."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import nuanliu.store.migrate as migrate_mod
from nuanliu.ingest.cli import app
from nuanliu.store import open_store

from .conftest import register_sensors

SRC = Path(__file__).resolve().parents[2] / "src"
#: the dashboard, the API server and the MQTT client: nothing a file ingest needs
WEB_STACK = ("fastapi", "starlette", "uvicorn", "jinja2", "paho")

_RUN = """
import json, sys
{entry}
try:
    run({argv!r})
except SystemExit as exc:
    code = exc.code
else:
    code = 0
json.dump({{"code": code, "modules": sorted(sys.modules)}}, open({out!r}, "w"))
"""


def _csv(tmp_path: Path, rows: int = 3) -> Path:
    path = tmp_path / "readings.csv"
    lines = [f"S{i:04d},2026-11-30T10:00:00+08:00,20.5,40" for i in range(rows)]
    path.write_text("sensor_id,ts,temp_c,humidity_pct\n" + "\n".join(lines) + "\n")
    return path


def _prepared(db_url: str) -> None:
    with open_store(db_url) as store:
        register_sensors(store, [f"S{i:04d}" for i in range(10)])


def _count(db_url: str, table: str = "readings") -> int:
    with open_store(db_url, migrate=False) as store, store.read() as q:
        return int(q.scalar(f"SELECT count(*) FROM {table}"))


ENTRIES = {
    # the `nuanliu` console script (lazy: imports a sub-command's module when it runs)
    "nuanliu": ("from nuanliu.cli import main as run", ["ingest"]),
    "ingest-module": ("from nuanliu.ingest.cli import app as run", []),
}


@pytest.mark.parametrize("entry", list(ENTRIES))
def test_ingest_cli_imports_no_web_stack_nor_monitoring_analytics(
    db_url: str, tmp_path: Path, entry: str
) -> None:
    _prepared(db_url)
    out = tmp_path / "modules.json"
    code, prefix = ENTRIES[entry]
    argv = [*prefix, str(_csv(tmp_path)), "--db", db_url]
    proc = subprocess.run(
        [sys.executable, "-c", _RUN.format(entry=code, argv=argv, out=str(out))],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )
    assert out.exists(), proc.stderr
    doc = json.loads(out.read_text())
    assert doc["code"] == 0, proc.stdout + proc.stderr
    modules = set(doc["modules"])
    assert not {m.split(".")[0] for m in modules} & set(WEB_STACK)
    ours = {m for m in modules if m.startswith("nuanliu.")}
    # The aggregates hook is registered (aggregates follow ingest) ...
    assert "nuanliu.monitor.aggregates" in ours
    # ... but not the analytics behind it, nor the web, API, solver or simulator.
    for unwanted in ("nuanliu.monitor.compliance", "nuanliu.web", "nuanliu.api", "nuanliu.sim"):
        assert not {m for m in ours if m == unwanted or m.startswith(unwanted + ".")}, unwanted
    assert "nuanliu.ingest.mqtt" not in ours
    if db_url.startswith("duckdb"):
        assert "psycopg" not in modules
    assert _count(db_url) == 3


def test_ingest_cli_does_not_rerun_migrations_on_a_current_store(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _prepared(db_url)

    def refuse(*args: object, **kwargs: object) -> list[int]:
        raise AssertionError("migrations re-run on an up-to-date store")

    monkeypatch.setattr(migrate_mod, "migrate", refuse)
    result = CliRunner().invoke(app, [str(_csv(tmp_path)), "--db", db_url])
    assert result.exit_code == 0, result.output
    assert _count(db_url) == 3
    # The aggregates followed the ingest (the hook is registered).
    assert _count(db_url, "mon_sensor_hourly") == 3


def test_ingest_cli_migrates_a_store_that_is_behind(db_url: str, tmp_path: Path) -> None:
    with open_store(db_url, migrate=False) as store:
        store.migrate(target=2)  # registry and readings, no monitoring tables yet
        register_sensors(store, [f"S{i:04d}" for i in range(10)])
    result = CliRunner().invoke(app, [str(_csv(tmp_path)), "--db", db_url])
    assert result.exit_code == 0, result.output
    with open_store(db_url, migrate=False) as store:
        assert store.schema_version() == max(migrate_mod.shipped_versions())
    assert _count(db_url, "mon_sensor_hourly") == 3


def test_check_creates_an_empty_database_and_is_a_no_op_when_current(db_url: str) -> None:
    with open_store(db_url, migrate="check") as store:
        assert set(migrate_mod.applied_versions(store)) == migrate_mod.shipped_versions()
        with store.read() as q:
            applied_at = q.all("SELECT version, applied_at FROM schema_version ORDER BY version")
    with open_store(db_url, migrate="check") as store, store.read() as q:
        assert q.all("SELECT version, applied_at FROM schema_version ORDER BY version") == (
            applied_at
        )


def test_docs_quote_the_benchmark_file_not_its_numbers() -> None:
    """docs/ingest.md points at bench/results/ingest.md and carries no rates of its own,
    so the page and the benchmark cannot disagree again."""
    root = Path(__file__).resolve().parents[2]
    docs = (root / "docs" / "ingest.md").read_text(encoding="utf-8")
    assert "bench/results/ingest.md" in docs
    assert (root / "bench" / "results" / "ingest.md").is_file()
    rate = re.compile(
        r"\d[\d,.\s]*\s?[kM]?\s*(readings|rows|messages|msgs)?\s*/\s?s\b"
        r"|\d+\s?% of (raw|bulk|the)"
    )
    assert not rate.findall(docs), [m.group(0) for m in rate.finditer(docs)]
