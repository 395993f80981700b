"""How an ingest command ends: its exit code and what it says about refused input.

Shared by ``nuanliu ingest`` (readings) and ``nuanliu telemetry ingest`` so both follow
one rule, the project's exit-code convention (``cli_store.EXIT_INVALID``: 2 = invalid input):

- ``0``: something of the input was accepted (stored, or already stored: a re-run of a
  stored file is not a refusal), even if other rows were refused — their counts are
  printed;
- ``1`` (``EXIT_FAILED``): a file could not be read at all, or ``--strict`` and a row
  was refused;
- ``2`` (``EXIT_REFUSED``): the input was entirely refused — every row quarantined or
  dead-lettered, none accepted (the same rule as the HTTP API's 422).
"""

from __future__ import annotations

from collections.abc import Sequence

from nuanliu.cli_store import EXIT_INVALID
from nuanliu.ingest.model import IngestReport

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_REFUSED = EXIT_INVALID


def entirely_refused(report: IngestReport) -> bool:
    """Input arrived and none of it was accepted (stored or a duplicate)."""
    return report.received > 0 and report.stored + report.duplicates == 0


def refusal_note(report: IngestReport, names: Sequence[str], unit: str = "row") -> str | None:
    """How many inputs were refused and where to see them; None if none was.

    ``names``: the file names, as quarantine sources name them (``file:<name>:<line>``).
    """
    refused = report.rejected + report.dead_lettered
    if not refused:
        return None
    what = "all" if entirely_refused(report) else f"{refused} of"
    parts = [f"{report.rejected} quarantined"]
    if report.dead_lettered:
        parts.append(f"{report.dead_lettered} dead-lettered")
    where = " or ".join(f"'file:{n}:%'" for n in names[:3]) + (" ..." if len(names) > 3 else "")
    see = f"quarantine table, source LIKE {where}" if names else "quarantine table"
    note = f"{what} {report.received} {unit}(s) refused ({', '.join(parts)}); see them in the {see}"
    if report.dead_lettered:
        note += "; dead letters: `nuanliu ingest dead-letters`"
    return note


def exit_code(report: IngestReport, failed_files: int = 0, strict: bool = False) -> int:
    """The command's exit code for what it ingested (see the module docstring)."""
    if failed_files:
        return EXIT_FAILED
    if entirely_refused(report):
        return EXIT_REFUSED
    if strict and report.rejected + report.dead_lettered:
        return EXIT_FAILED
    return EXIT_OK
