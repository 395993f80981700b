"""Personal data masking for anyone not entitled to see a resident's identity."""

from __future__ import annotations

import re


def mask_name(name: str | None) -> str | None:
    """Keep the first character: ``张三`` → ``张*``, ``欧阳娜娜`` → ``欧***``."""
    if not name:
        return name
    name = name.strip()
    if len(name) <= 1:
        return "*"
    return name[0] + "*" * (len(name) - 1)


def mask_phone(phone: str | None) -> str | None:
    """Keep the first 3 and last 4 digits: ``13800001234`` → ``138****1234``.

    Landlines keep their area code and last 2 digits (``0471-6912345`` → ``0471-*****45``);
    anything shorter than 7 digits is hidden entirely.
    """
    if not phone:
        return phone
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) < 7:
        return "*" * len(phone)
    if "-" in phone:
        area, number = phone.split("-", 1)
        return f"{area}-{'*' * (len(number) - 2)}{number[-2:]}"
    return f"{digits[:3]}{'*' * (len(digits) - 5)}{digits[-2:]}"
