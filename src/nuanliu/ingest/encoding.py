"""Text encodings of reading files: UTF-8 (with or without BOM) or GB18030.

Detection is a strict-decode cascade rather than a statistical detector such as
charset-normalizer: our files are either UTF-8 or GB18030 (Chinese deployments), both
are ASCII for the structural bytes (``\\n``, ``\\r``, ``"``, ``,``, ``\\t``, digits never
occur inside a multi-byte character), and a strict decoder gives a per-line yes/no that
is reliable on short inputs, deterministic and fast — where a detector guesses among
dozens of code pages (cp1252, Big5, …) and can flip on a one-line file. Rule:

1. a UTF-8 BOM → UTF-8; the GB18030 BOM (``84 31 95 33``) → GB18030;
2. the sample (header and first block) decodes as strict UTF-8 → UTF-8;
3. otherwise each line with non-ASCII bytes votes: valid UTF-8 → UTF-8, else valid
   GB18030 → GB18030; GB18030 wins only with more votes (a UTF-8 file with a few corrupt
   lines stays UTF-8 and those lines are quarantined).

``--encoding utf-8|gb18030`` skips detection. A line that does not decode in the file's
encoding is quarantined: its ``raw`` is the line decoded with ``backslashreplace``
(undecodable bytes shown as ``\\xNN``) and ``Rejection.raw_bytes`` keeps the exact bytes.
"""

from __future__ import annotations

import codecs

from nuanliu.errors import InvalidInput

_ALIASES = {
    "auto": "auto",
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8",
    # GBK and GB2312 are subsets of GB18030: read them as GB18030.
    "gb18030": "gb18030",
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "cp936": "gb18030",
}
GB18030_BOM = b"\x84\x31\x95\x33"


def check_encoding(name: str) -> str:
    got = _ALIASES.get(name.strip().lower().replace("_", "-"))
    if got is None:
        raise InvalidInput(
            f"encoding {name!r} is not supported; use auto, utf-8 or gb18030",
            details={"encoding": name},
        )
    return got


def detect(sample: bytes) -> str:
    """The encoding of a file from its first bytes (whole lines), by the rule above."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if sample.startswith(GB18030_BOM):
        return "gb18030"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    utf8 = gb = 0
    for line in sample.split(b"\n"):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8 += 1
            continue
        except UnicodeDecodeError:
            pass
        try:
            line.decode("gb18030")
            gb += 1
        except UnicodeDecodeError:
            pass
    return "gb18030" if gb > utf8 else "utf-8"


def strip_bom(text: str) -> str:
    return text[1:] if text.startswith("\ufeff") else text


def escaped(raw: bytes, encoding: str) -> str:
    """Text of bytes that may not decode: undecodable bytes as ``\\xNN`` (documented)."""
    return raw.decode(encoding, errors="backslashreplace")


def decode_problem(raw: bytes, encoding: str) -> str | None:
    """Why ``raw`` is not valid in ``encoding`` (naming the byte), or None if it is."""
    try:
        raw.decode(encoding)
        return None
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : min(exc.end, exc.start + 4)]
        name = "UTF-8" if encoding == "utf-8" else "GB18030"
        return f"is not valid {name} at byte {exc.start + 1} ({bad.hex(' ')})"
