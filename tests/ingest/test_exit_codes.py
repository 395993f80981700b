"""How `nuanliu ingest` and `nuanliu telemetry ingest` end: input refused entirely exits
2 (invalid input) and says how much and where; partly refused exits 0 with the counts;
a re-run of a stored file is accepted (duplicates), not refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from nuanliu.cli import app as nuanliu_app
from nuanliu.ingest.model import IngestReport
from nuanliu.ingest.outcome import EXIT_REFUSED, entirely_refused, exit_code
from nuanliu.store import open_store

from .conftest import SENSORS, register_sensors

TS = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(nuanliu_app, list(args))
    return result.exit_code, " ".join(result.output.split())  # rich wraps long lines


def _count(db_url: str, table: str) -> int:
    with open_store(db_url) as s, s.read() as q:
        return int(q.scalar(f"SELECT count(*) FROM {table}", []))


def test_exit_code_rule() -> None:
    assert exit_code(IngestReport(received=3, rejected=3)) == EXIT_REFUSED == 2
    assert exit_code(IngestReport(received=3, rejected=2, dead_lettered=1)) == 2
    assert exit_code(IngestReport(received=3, stored=1, rejected=2)) == 0
    assert exit_code(IngestReport(received=3, duplicates=3)) == 0  # a re-run: accepted
    assert exit_code(IngestReport()) == 0  # a header-only file refuses nothing
    assert exit_code(IngestReport(received=3, stored=1, rejected=2), strict=True) == 1
    assert exit_code(IngestReport(received=3, stored=3), failed_files=1) == 1
    assert not entirely_refused(IngestReport(received=2, stored=1, rejected=1))


def test_readings_cli_all_refused_partly_refused_and_rerun(db_url: str, tmp_path: Path) -> None:
    with open_store(db_url) as s:
        register_sensors(s, SENSORS[:5])
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "sensor_id,ts,temp_c\n"
        f"S0001,{TS.isoformat()},99\n"  # out of range
        "S0002,not a time,20\n"
        f"NOPE,{TS.isoformat()},20\n"
    )
    code, out = _run("ingest", str(bad), "--db", db_url)
    assert code == 2, out
    assert "all 3 row(s) refused (3 quarantined)" in out
    assert "source LIKE 'file:bad.csv:%'" in out
    assert _count(db_url, "quarantine") == 3 and _count(db_url, "readings") == 0

    mixed = tmp_path / "mixed.csv"
    mixed.write_text(f"sensor_id,ts,temp_c\nS0001,{TS.isoformat()},21\nS0002,{TS.isoformat()},99\n")
    code, out = _run("ingest", str(mixed), "--db", db_url)
    assert code == 0, out
    assert "1 of 2 row(s) refused (1 quarantined)" in out
    code, out = _run("ingest", str(mixed), "--db", db_url, "--strict")
    assert code == 1, out  # --strict: any refused row fails the command
    assert "duplicates 1" in out

    good = tmp_path / "good.csv"
    good.write_text(f"sensor_id,ts,temp_c\nS0003,{TS.isoformat()},21\n")
    for _ in range(2):  # the second run stores nothing: every row is a duplicate
        code, out = _run("ingest", str(good), "--db", db_url)
        assert code == 0 and "refused" not in out, out
    assert _count(db_url, "readings") == 2


def test_telemetry_cli_all_refused_and_partly_refused(db_url: str, tmp_path: Path) -> None:
    with open_store(db_url) as s:
        from nuanliu.telemetry.store import Site, save_sites

        save_sites(s, [Site("HH045", "station", "呼和浩特045站")])
    ts = TS.isoformat()
    bad = tmp_path / "tel-bad.csv"
    bad.write_text(
        f"site_id,ts,primary_supply_temp_c,valve_opening_pct\nGHOST,{ts},90,50\nHH045,{ts},900,\n"
    )
    code, out = _run("telemetry", "ingest", str(bad), "--db", db_url)
    assert code == 2, out
    assert "all 3 value(s) refused (3 quarantined)" in out
    assert "source LIKE 'file:tel-bad.csv:%'" in out
    with open_store(db_url) as s, s.read() as q:
        sources = {r[0] for r in q.all("SELECT source FROM quarantine", [])}
    assert "file:tel-bad.csv:3:primary_supply_temp_c" in sources  # line and point

    mixed = tmp_path / "tel-mixed.csv"
    mixed.write_text(f"site_id,ts,primary_supply_temp_c\nHH045,{ts},90\nHH045,{ts}x,91\n")
    code, out = _run("telemetry", "ingest", str(mixed), "--db", db_url)
    assert code == 0, out
    assert "1 of 2 value(s) refused (1 quarantined)" in out

    missing = tmp_path / "tel-nots.csv"
    missing.write_text("site_id,value\nHH045,1\n")
    code, out = _run("telemetry", "ingest", str(missing), "--db", db_url)
    assert code == 1, out  # unreadable as telemetry at all: a failed file
