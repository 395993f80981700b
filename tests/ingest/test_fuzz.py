"""Property-based fuzzing of every ingest parser: no input makes an exception escape, and
every input is accounted for (``received == valid + quarantined``).

Bounded for CI: each property tries ``NUANLIU_FUZZ_EXAMPLES`` inputs (default 400; the
whole module takes ~20-40 s on one core). The count of inputs tried is printed at the
end of the run. A long run: ``NUANLIU_FUZZ_EXAMPLES=20000 pytest tests/ingest/test_fuzz.py``
(and ``tests/ingest/fuzz_atheris.py`` for coverage-guided fuzzing, docs/ingest.md).
Every crash found is kept as a regression input in tests/ingest/corpus/.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nuanliu.errors import InvalidInput
from nuanliu.ingest.csv_lines import csv_chunks
from nuanliu.ingest.files import ingest_file
from nuanliu.ingest.model import RawBatch, Rejection
from nuanliu.ingest.parse import Accumulator, parse_json, parse_ndjson, split_lines
from nuanliu.ingest.validate import KnownSensors, Validator

EXAMPLES = int(os.environ.get("NUANLIU_FUZZ_EXAMPLES", "400"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
TRIED: Counter[str] = Counter()
CORPUS = Path(__file__).parent / "corpus"
SENSORS = [f"S{i:04d}" for i in range(20)]


@pytest.fixture(scope="module", autouse=True)
def report_count(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    total = sum(TRIED.values())
    parts = ", ".join(f"{k} {v}" for k, v in sorted(TRIED.items()))
    line = f"fuzz: {total} inputs tried ({parts}); no exception escaped"
    plugins = request.config.pluginmanager
    reporter = plugins.get_plugin("terminalreporter")
    capture = plugins.get_plugin("capturemanager")
    if reporter is None or capture is None:
        print(line)
        return
    with capture.global_and_fixture_disabled():  # shown even under output capture
        reporter.write_line("")
        reporter.write_line(line)


def validator() -> Validator:
    known = set(SENSORS)
    return Validator(KnownSensors(lambda ids: [i for i in ids if i in known]))


def accounted(batch: RawBatch, rejected: list[Rejection]) -> tuple[int, int, int]:
    """(received, valid, quarantined) after validation; asserts they balance."""
    result = validator().validate(batch, rejected)
    received = len(batch) + len(rejected)
    assert received == result.valid.num_rows + len(result.rejected)
    for r in result.rejected:
        assert isinstance(r.raw, str) and r.reason
    return received, result.valid.num_rows, len(result.rejected)


# ------------------------------------------------------------------------ JSON

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.integers(946684800, 4102444800 * 10**9),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(SENSORS + ["", "\x00", "2026-11-22T09:30:00+08:00", "2026-11-22T09:30"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(
            st.sampled_from(["sensor_id", "ts", "temp_c", "humidity_pct", "readings", "x"]),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=30,
)
reading = st.fixed_dictionaries(
    {
        "sensor_id": st.one_of(st.sampled_from(SENSORS), scalars),
        "ts": st.one_of(
            st.integers(1_700_000_000, 1_760_000_000),
            st.integers(1_700_000_000_000, 1_760_000_000_000),
            st.integers(1_700_000_000 * 10**9, 1_760_000_000 * 10**9),
            scalars,
        ),
        "temp_c": st.one_of(st.floats(-40, 60), scalars),
    },
    optional={"humidity_pct": st.one_of(st.floats(0, 100), scalars), "gateway_id": scalars},
)


def dumps(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


def mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """Apply (position, delete count, insert bytes) edits: the bytes-level mutations."""
    for pos, delete, insert in edits:
        p = pos % (len(data) + 1)
        data = data[:p] + insert + data[p + delete :]
    return data


edits = st.lists(
    st.tuples(
        st.integers(0, 10**6),
        st.integers(0, 8),
        st.sampled_from([b"", b'"', b"\r", b"\n", b"\x00", b"\xff", b"[", b"{", b",", b"\\"]),
    ),
    max_size=6,
)


@FUZZ
@given(st.one_of(json_values, st.lists(reading, max_size=8), reading), edits)
def test_json_bodies(value: Any, how: list[tuple[int, int, bytes]]) -> None:
    TRIED["json"] += 1
    body = mutate(dumps(value), how)
    batch, rejected = parse_json(body, "fuzz")
    accounted(batch, rejected)


@FUZZ
@given(st.binary(max_size=300))
def test_json_arbitrary_bytes(body: bytes) -> None:
    TRIED["json-bytes"] += 1
    accounted(*parse_json(body, "fuzz"))


@FUZZ
@given(st.lists(st.one_of(reading.map(dumps), json_values.map(dumps), st.binary(max_size=40))))
def test_ndjson_lines(lines: list[bytes]) -> None:
    TRIED["ndjson"] += 1
    body = b"\n".join(lines)
    acc = parse_ndjson(split_lines(body), "fuzz")
    received, _, _ = accounted(acc.build(), acc.rejected)
    assert received <= max(1, body.count(b"\n") + 1) * 1000  # no row invented from nothing


columns = st.lists(scalars, max_size=6)


@FUZZ
@given(
    st.fixed_dictionaries(
        {"sensor_id": st.lists(st.one_of(st.sampled_from(SENSORS), scalars), max_size=6)},
        optional={
            "ts": st.one_of(columns, scalars),
            "temp_c": st.one_of(columns, scalars),
            "humidity_pct": st.one_of(columns, scalars),
            "gateway_id": scalars,
        },
    )
)
def test_gateway_batches(value: dict[str, Any]) -> None:
    TRIED["gateway"] += 1
    acc = Accumulator()
    acc.add(value, "mqtt:fuzz")
    received, _, _ = accounted(acc.build(), acc.rejected)
    n = len(value["sensor_id"])
    lengths_ok = all(
        type(value.get(f)) is list and len(value[f]) == n for f in ("ts", "temp_c")
    ) and (
        value.get("humidity_pct") is None
        or (type(value["humidity_pct"]) is list and len(value["humidity_pct"]) == n)
    )
    # A consistent batch is n readings; an inconsistent one is one refusal.
    assert received == (n if lengths_ok and n else 1 if not lengths_ok else 0)


any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=8)
python_values = st.one_of(scalars, any_text, st.lists(any_text, max_size=2))


@FUZZ
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["sensor_id", "ts", "temp_c", "humidity_pct"]), python_values
        ),
        max_size=6,
    )
)
def test_python_rows(rows: list[dict[str, Any]]) -> None:
    """ingest_rows input (any Python str, lone surrogates included): what goes to the
    store is always encodable text."""
    TRIED["python"] += 1
    acc = Accumulator()
    acc.add(rows, "python")
    batch = acc.build()
    result = validator().validate(batch, acc.rejected)
    assert result.valid.num_rows + len(result.rejected) == len(batch) + len(acc.rejected)
    for r in result.rejected:
        for text in (r.reason, r.raw, r.sensor_id or "", r.ts_text or ""):
            text.encode("utf-8")


# ------------------------------------------------------------------------- CSV

GOOD_CSV = "sensor_id,ts,temp_c,humidity_pct\n" + "".join(
    f"S{i % 20:04d},{1_763_000_000 + i},{18 + i % 5}.5,{40 + i}\n" for i in range(30)
)


def count_lines(body: bytes) -> int:
    """Non-blank physical lines after the header: what a CSV read must account for."""
    lines = body.split(b"\n")[1:]
    return sum(1 for ln in lines if ln.removesuffix(b"\r") != b"")


@FUZZ
@given(edits, st.sampled_from([16, 64, 200, 8 << 20]), st.booleans())
def test_csv_byte_mutations(how: list[tuple[int, int, bytes]], chunk: int, gb: bool) -> None:
    """Insert quotes, CR, LF, NUL, bad bytes; delete bytes; truncate; re-encode as GB18030:
    every non-blank line is one reading or one quarantined line, each under its own line."""
    TRIED["csv"] += 1
    base = GOOD_CSV.replace("S0003", "暖流").encode("gb18030" if gb else "utf-8")
    body = mutate(base, how)
    try:
        chunks = list(csv_chunks(io.BytesIO(body), "f", ",", chunk))
    except InvalidInput:
        return  # the header itself was broken: a whole-file refusal, said clearly
    received = 0
    sources: list[str] = []
    for batch, rejected in chunks:
        got, _, _ = accounted(batch, rejected)
        received += got
        sources += [r.source for r in rejected]
    header_end = body.find(b"\n")
    assert received == (count_lines(body) if header_end >= 0 else 0)
    assert len(sources) == len(set(sources))  # one quarantine row per line at most


_STORES: dict[str, Any] = {}


def _duckdb_store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One DuckDB store for the whole property (hypothesis reruns the test body)."""
    if "duckdb" not in _STORES:
        from nuanliu.store import open_store

        from .conftest import register_sensors

        db = tmp_path_factory.mktemp("fuzzdb") / "fuzz.duckdb"
        store = open_store(f"duckdb:///{db}")
        register_sensors(store, SENSORS)
        _STORES["duckdb"] = store
    return _STORES["duckdb"]


@pytest.fixture(scope="module", autouse=True)
def _close_stores() -> Iterator[None]:
    yield
    for store in _STORES.values():
        store.close()
    _STORES.clear()


@settings(FUZZ, max_examples=max(10, EXAMPLES // 10))
@given(edits, st.booleans())
def test_csv_mutations_through_the_store(
    tmp_path_factory: pytest.TempPathFactory, how: list[tuple[int, int, bytes]], gb: bool
) -> None:
    """End to end on DuckDB: what the report says is what the tables gained."""
    from nuanliu.ingest.batch import ingestor_for

    TRIED["csv-store"] += 1
    store = _duckdb_store(tmp_path_factory)
    base = GOOD_CSV.replace("S0003", "暖流").encode("gb18030" if gb else "utf-8")
    path = tmp_path_factory.getbasetemp() / "fuzz-store.csv"
    path.write_bytes(mutate(base, how))

    def counts() -> tuple[int, int]:
        with store.read() as q:
            return (
                int(q.scalar("SELECT count(*) FROM readings", [])),
                int(q.scalar("SELECT count(*) FROM quarantine", [])),
            )

    before = counts()
    try:
        rep = ingest_file(ingestor_for(store), path)
    except InvalidInput:
        assert counts() == before  # a whole-file refusal stores nothing
        return
    after = counts()
    assert rep.received == rep.stored + rep.duplicates + rep.rejected
    assert (after[0] - before[0], after[1] - before[1]) == (rep.stored, rep.rejected)


@FUZZ
@given(st.binary(max_size=400), st.sampled_from([32, 8 << 20]))
def test_csv_arbitrary_bytes_after_a_header(tail: bytes, chunk: int) -> None:
    TRIED["csv-bytes"] += 1
    body = b"sensor_id,ts,temp_c\n" + tail
    received = 0
    for batch, rejected in csv_chunks(io.BytesIO(body), "f", ",", chunk):
        received += accounted(batch, rejected)[0]
    assert received == count_lines(body)


# --------------------------------------------------------------------- Parquet

UNITS = ["s", "ms", "us", "ns"]


@st.composite
def parquet_tables(draw: st.DrawFn) -> pa.Table:
    n = draw(st.integers(0, 8))
    kind = draw(st.sampled_from(["timestamp", "int", "float", "string", "bool", "date"]))
    if kind == "timestamp":
        unit = draw(st.sampled_from(UNITS))
        tz = draw(st.sampled_from([None, "UTC", "Asia/Shanghai"]))
        lim = 2**62 // (1000 if unit == "s" else 1)  # Parquet keeps s as ms
        vals = draw(st.lists(st.one_of(st.none(), st.integers(-lim, lim)), min_size=n, max_size=n))
        ts = pa.array(vals, pa.timestamp(unit, tz=tz))
    elif kind == "int":
        vals = draw(
            st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), min_size=n, max_size=n)
        )
        ts = pa.array(vals, pa.int64())
    elif kind == "float":
        ts = pa.array(draw(st.lists(st.floats(), min_size=n, max_size=n)), pa.float64())
    elif kind == "string":
        ts = pa.array(draw(st.lists(scalars.map(str), min_size=n, max_size=n)), pa.string())
    elif kind == "date":  # days far beyond year 9999 cannot become Python dates
        days = st.integers(-(2**31), 2**31 - 1)
        ts = pa.array(draw(st.lists(days, min_size=n, max_size=n)), pa.date32())
    else:
        ts = pa.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), pa.bool_())
    temp_kind = draw(st.sampled_from(["float", "int", "string", "decimal"]))
    if temp_kind == "float":
        temp = pa.array(draw(st.lists(st.floats(), min_size=n, max_size=n)), pa.float64())
    elif temp_kind == "int":
        temp = pa.array(
            draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n)), pa.int64()
        )
    elif temp_kind == "string":
        temp = pa.array(draw(st.lists(st.text(max_size=8), min_size=n, max_size=n)))
    else:
        temp = pa.array([None] * n, pa.decimal128(10, 2))
    ids = pa.array(draw(st.lists(st.sampled_from(SENSORS + ["", "x"]), min_size=n, max_size=n)))
    if draw(st.booleans()):
        ids = ids.dictionary_encode()
    return pa.table({"sensor_id": ids, "ts": ts, "temp_c": temp})


class _Nothing:
    """An Ingestor stand-in that validates without a store (the parsers are under test)."""

    def __init__(self) -> None:
        self.seen = 0

    def ingest(self, batch: RawBatch, rejected: list[Rejection] = ()) -> Any:  # type: ignore[assignment]
        from nuanliu.ingest.model import IngestReport

        received, valid, bad = accounted(batch, list(rejected))
        self.seen += received
        return IngestReport(received=received, stored=valid, rejected=bad)


@FUZZ
@given(parquet_tables())
def test_parquet_random_schemas(tmp_path_factory: pytest.TempPathFactory, tbl: pa.Table) -> None:
    TRIED["parquet"] += 1
    path = tmp_path_factory.mktemp("pq") / "f.parquet"
    pq.write_table(tbl, path)
    ing = _Nothing()
    rep = ingest_file(ing, path)  # type: ignore[arg-type]
    assert rep.received == tbl.num_rows == rep.stored + rep.rejected


@FUZZ
@given(st.binary(max_size=200), st.integers(0, 4000))
def test_parquet_corrupted_bytes(junk: bytes, at: int) -> None:
    """A valid Parquet file with bytes overwritten: read, or refused as a whole (or the
    unreadable rest quarantined), never an exception of another kind."""
    TRIED["parquet-bytes"] += 1
    tbl = pa.table(
        {
            "sensor_id": SENSORS,
            "ts": list(range(1_763_000_000, 1_763_000_020)),
            "temp_c": [20.5] * 20,
        }
    )
    buf = io.BytesIO()
    pq.write_table(tbl, buf)
    data = bytearray(buf.getvalue())
    at %= len(data)
    data[at : at + len(junk)] = junk
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"fuzz-{os.getpid()}.parquet"
    path.write_bytes(bytes(data))
    try:
        ingest_file(_Nothing(), path)  # type: ignore[arg-type]
    except InvalidInput:
        pass
    finally:
        path.unlink(missing_ok=True)


# ------------------------------------------------------------------ regressions


def test_corpus_inputs(tmp_path: Path) -> None:
    """Every input a fuzzer once crashed on (tests/ingest/corpus/) still reads cleanly."""
    files = sorted(
        p for p in CORPUS.iterdir() if p.suffix in {".csv", ".ndjson", ".json", ".parquet", ".tsv"}
    )
    assert files
    for path in files:
        TRIED["corpus"] += 1
        with contextlib.suppress(InvalidInput):  # a whole-file refusal is an answer
            ingest_file(_Nothing(), path)  # type: ignore[arg-type]
    for path in sorted(CORPUS.glob("*.body")):  # raw JSON bodies (HTTP/MQTT payloads)
        TRIED["corpus"] += 1
        accounted(*parse_json(path.read_bytes(), "corpus"))
