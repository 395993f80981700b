"""Imported by a test's ``nuanliu ingest mqtt`` process before the CLI runs: a bug of the
day that makes validation raise on any batch holding sensor ``POISON_SENSOR``.

Parsers get fixed, so a poison the current code still chokes on cannot be taken from
the wild; this one keeps raising and so proves the worker isolates it.
"""

from __future__ import annotations

from typing import Any

from nuanliu.ingest import validate

POISON_SENSOR = "S0990"
_real = validate.Validator.validate


def _buggy(self: Any, batch: Any, unparsed: Any = ()) -> Any:
    col = batch.columns["sensor_id"]
    ids = col.to_pylist() if hasattr(col, "to_pylist") else list(col)
    if POISON_SENSOR in ids:
        raise OverflowError("injected bug: Python int too large to convert to C long")
    return _real(self, batch, unparsed)


validate.Validator.validate = _buggy  # type: ignore[method-assign]
