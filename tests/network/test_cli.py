"""The ``nuanliu network`` commands, run through Typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from nuanliu.cli import app
from nuanliu.network.io import read_network, write_network
from nuanliu.network.schema import schema_markdown

from .conftest import tiny_network

runner = CliRunner()
DOCS = Path(__file__).resolve().parents[2] / "docs" / "network-schema.md"


def test_schema_doc_is_up_to_date() -> None:
    result = runner.invoke(app, ["network", "schema"])
    assert result.exit_code == 0
    assert result.stdout.strip() == schema_markdown().strip()
    assert DOCS.read_text(encoding="utf-8").strip() == schema_markdown().strip(), (
        "docs/network-schema.md is stale: run `nuanliu network schema > docs/network-schema.md`"
    )
    assert "`supply_temp_c`" in result.stdout and "## `pipes`" in result.stdout


def test_check_a_valid_example_by_name() -> None:
    result = runner.invoke(app, ["network", "check", "jiexiu"])
    assert result.exit_code == 0, result.stdout
    assert "OK" in result.stdout and "109" in result.stdout


def test_check_prints_every_problem_and_exits_1(tmp_path: Path) -> None:
    net = tiny_network()
    net.pipes.loc[0, "length_m"] = -5.0
    net.consumers.loc[0, "return_junction_id"] = "ghost"
    path = write_network(net, tmp_path / "bad.geojson")
    result = runner.invoke(app, ["network", "check", str(path)])
    assert result.exit_code == 1
    assert "p_s1" in result.stdout and "length_m" in result.stdout
    assert "ghost" in result.stdout and "c1" in result.stdout


def test_check_unknown_file_exits_2() -> None:
    result = runner.invoke(app, ["network", "check", "no/such/net.geojson"])
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_export_to_each_format_and_back(tmp_path: Path) -> None:
    src = write_network(tiny_network(), tmp_path / "tiny_csv", "csv")
    for fmt, name in (("geojson", "t.geojson"), ("csv", "t_csv"), ("pandapipes", "t.json")):
        out = tmp_path / name
        result = runner.invoke(app, ["network", "export", str(src), "--to", fmt, "-o", str(out)])
        assert result.exit_code == 0, result.stdout + result.stderr
        back = read_network(out)
        assert back.summary() == tiny_network().summary()


def test_generate_writes_a_reproducible_network(tmp_path: Path) -> None:
    args = ["network", "generate", "--consumers", "200", "--seed", "9", "--sources", "2"]
    a, b = tmp_path / "a.geojson", tmp_path / "b.geojson"
    assert runner.invoke(app, [*args, "-o", str(a)]).exit_code == 0
    assert runner.invoke(app, [*args, "-o", str(b)]).exit_code == 0
    assert a.read_bytes() == b.read_bytes()
    net = read_network(a)
    assert len(net.consumers) == 200 and len(net.sources) == 2
    bad_args = ["network", "generate", "--consumers", "0", "--seed", "1"]
    bad = runner.invoke(app, [*bad_args, "-o", str(tmp_path / "x.geojson")])
    assert bad.exit_code == 2 and "consumers" in bad.stderr


def test_examples_list_and_example_export(tmp_path: Path) -> None:
    listing = runner.invoke(app, ["network", "examples"])
    assert listing.exit_code == 0
    assert "jiexiu" in listing.stdout and "tuoketuo-hohhot" in listing.stdout
    out = tmp_path / "tk.geojson"
    result = runner.invoke(app, ["network", "example", "tuoketuo-hohhot", "-o", str(out)])
    assert result.exit_code == 0
    assert read_network(out).summary()["stations"] == 97
    missing = runner.invoke(app, ["network", "example", "atlantis", "-o", str(out)])
    assert missing.exit_code == 2 and "jiexiu" in missing.stderr
