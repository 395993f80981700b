"""``nuanliu ingest replay``: run dead letters through the current code after a fix.

Each pending dead letter is parsed and validated again the way its transport would
(an MQTT payload as a message on its topic, an HTTP body or file chunk by its content
type). One that now goes through is committed — readings, quarantine rows — together
with its ``replayed_at`` and report, in one transaction, so a replay can be repeated
or interrupted at any point: replayed letters are skipped and their readings are
idempotent anyway. One that still raises stays pending with the new error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from nuanliu.ingest.batch import Ingestor, ingestor_for
from nuanliu.ingest.deadletters import describe, is_outage
from nuanliu.ingest.model import IngestReport
from nuanliu.ingest.validate import ValidationResult
from nuanliu.store import DeadLetter, Store


class _AlreadyReplayed(Exception):
    """Rolls back a replay whose letter another replay marked meanwhile."""


@dataclass
class ReplayOutcome:
    dead_letter_id: int
    source: str
    replayed: bool
    report: IngestReport | None = None  # when replayed
    error: str | None = None  # when it failed again


def check_letter(ingestor: Ingestor, letter: DeadLetter) -> tuple[ValidationResult, int]:
    """Parse and validate a dead letter's payload as its transport does (no writes)."""
    if letter.transport.endswith("mqtt"):  # "mqtt" (readings), "telemetry-mqtt"
        acc = ingestor.parse_message(letter.payload, letter.source)
        return ingestor.validate(acc.build(), acc.rejected)
    return ingestor.check_bytes(
        letter.payload, letter.content_type or "application/json", letter.source
    )


def replay_dead_letters(
    store: Store,
    *,
    ids: Sequence[int] | None = None,
    transport: str | None = None,
    since: dt.datetime | None = None,
    ingestor: Ingestor | None = None,
) -> list[ReplayOutcome]:
    """Replay the pending dead letters selected (all by default), oldest first.

    A store outage propagates (nothing is marked); every other exception is recorded on
    its letter, which stays pending.
    """
    ing = ingestor
    outcomes: list[ReplayOutcome] = []
    pending = store.list_dead_letters(ids=ids, transport=transport, since=since, pending_only=True)
    for letter in pending:
        assert letter.dead_letter_id is not None
        lid = letter.dead_letter_id
        try:
            letter_ing = ing or _ingestor_for_letter(store, letter)
            result, received = check_letter(letter_ing, letter)
            with store.write():  # the readings and the mark commit together
                report = letter_ing.commit(result, received)
                if not store.mark_dead_letter_replayed(lid, report.to_dict()):
                    raise _AlreadyReplayed
        except _AlreadyReplayed:
            continue  # a concurrent replay took it; its transaction holds the rows
        except Exception as exc:
            if is_outage(exc, store):
                raise
            kind, message, summary = describe(exc)
            store.record_dead_letter_failure(lid, kind, message, summary)
            outcomes.append(ReplayOutcome(lid, letter.source, False, error=f"{kind}: {message}"))
            continue
        outcomes.append(ReplayOutcome(lid, letter.source, True, report=report))
    return outcomes


def _ingestor_for_letter(store: Store, letter: DeadLetter) -> Ingestor:
    """The ingestor of the letter's kind: telemetry letters ("telemetry-mqtt", ...) go
    back through telemetry ingest, every other letter through readings ingest."""
    if letter.transport.startswith("telemetry-"):
        from nuanliu.telemetry.ingest import telemetry_ingestor_for

        return telemetry_ingestor_for(store)
    return ingestor_for(store)
