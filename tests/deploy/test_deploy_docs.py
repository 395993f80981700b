"""docs/deploy.md and deploy/ stay in step: every file the guide names exists, every
deployment file is in the guide, and the commands it shows exist with those options."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from nuanliu.cli import app
from tests.deploy.conftest import DEPLOY, ROOT

GUIDE = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")


def test_every_named_file_exists_and_every_file_is_named() -> None:
    named = set(re.findall(r"(?<![\w/])deploy/[\w./@-]+\w", GUIDE))
    for path in named:
        assert (ROOT / path).exists() or (DEPLOY / path.removeprefix("deploy/")).exists(), path
    for file in DEPLOY.rglob("*"):
        if file.is_file():
            rel = file.relative_to(ROOT).as_posix()
            folder = file.parent.relative_to(ROOT).as_posix()
            assert rel in GUIDE or f"{folder}/*" in GUIDE, f"{rel} is not in docs/deploy.md"


def test_the_commands_of_the_guide_exist() -> None:
    runner = CliRunner()
    for argv, options in [
        (["db", "backup", "--help"], ["--db"]),
        (["db", "restore", "--help"], ["--replay-archive", "--force", "--replay-margin-s"]),
        (["ingest", "archive", "--help"], ["--keep-days"]),
        (["scheduler", "run", "--help"], ["--poll-s", "--once"]),
        (["scheduler", "jobs", "--help"], []),
        (["demo", "--help"], ["--db", "--ingest-workers"]),
        (["ingest", "mqtt", "--help"], ["--drain", "--instance", "--group"]),
    ]:
        result = runner.invoke(app, argv, env={"COLUMNS": "200"})
        assert result.exit_code == 0, (argv, result.output)
        for option in options:
            assert option in result.output, (argv, option)
