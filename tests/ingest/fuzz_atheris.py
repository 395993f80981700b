"""Coverage-guided fuzzing of the ingest parsers with atheris (the long-run harness).

Optional (``pip install -e '.[fuzz]'``, i.e. atheris). Run, e.g. for 10 minutes::

    PYTHONPATH=src python tests/ingest/fuzz_atheris.py -max_total_time=600 \
        -rss_limit_mb=4096 /tmp/fuzz-corpus tests/ingest/corpus

The first byte picks the parser (JSON body, NDJSON, CSV after a valid header, CSV
whole, Parquet file); the rest is its input. An input fails if any exception other than
``InvalidInput`` (a whole-file refusal) escapes, or if the counts do not balance. A crash
is written by libFuzzer as ``crash-<sha1>``: copy it into ``tests/ingest/corpus/`` with
the right suffix so the regression tests read it on every run.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile

import atheris

with atheris.instrument_imports(include=["nuanliu"]):
    from nuanliu.errors import InvalidInput
    from nuanliu.ingest.csv_lines import csv_chunks
    from nuanliu.ingest.files import ingest_file
    from nuanliu.ingest.model import IngestReport, RawBatch, Rejection
    from nuanliu.ingest.parse import parse_json, parse_ndjson, split_lines
    from nuanliu.ingest.validate import KnownSensors, Validator

KNOWN = {f"S{i:04d}" for i in range(20)}
VALIDATOR = Validator(KnownSensors(lambda ids: [i for i in ids if i in KNOWN]))
PARQUET = os.path.join(tempfile.gettempdir(), f"atheris-{os.getpid()}.parquet")


def check(batch: RawBatch, rejected: list[Rejection]) -> IngestReport:
    result = VALIDATOR.validate(batch, rejected)
    received = len(batch) + len(rejected)
    if received != result.valid.num_rows + len(result.rejected):
        raise AssertionError(
            f"{received} received, {result.valid.num_rows} valid, "
            f"{len(result.rejected)} quarantined"
        )
    return IngestReport(received, result.valid.num_rows, 0, len(result.rejected))


class _Check:
    def ingest(self, batch: RawBatch, rejected: list[Rejection] = ()) -> IngestReport:  # type: ignore[assignment]
        return check(batch, list(rejected))


def one_input(data: bytes) -> None:
    if not data:
        return
    kind, body = data[0] % 5, data[1:]
    try:
        if kind == 0:
            check(*parse_json(body, "fuzz"))
        elif kind == 1:
            acc = parse_ndjson(split_lines(body), "fuzz")
            check(acc.build(), acc.rejected)
        elif kind in (2, 3):
            if kind == 2:
                body = b"sensor_id,ts,temp_c,humidity_pct\n" + body
            for batch, rejected in csv_chunks(io.BytesIO(body), "fuzz", ",", 64):
                check(batch, rejected)
        else:
            with open(PARQUET, "wb") as fh:
                fh.write(body)
            ingest_file(_Check(), PARQUET)  # type: ignore[arg-type]
    except InvalidInput:
        pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
