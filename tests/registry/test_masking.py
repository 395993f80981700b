"""Residents' names and phone numbers are masked for anyone not entitled to them."""

import pytest

from nuanliu.registry import mask_name, mask_phone


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),
        ("王", "*"),
        ("Li Lei", "L*****"),
        ("", ""),
        (None, None),
    ],
)
def test_mask_name_keeps_only_the_first_character(name: str | None, masked: str | None) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13800001234", "138****1234"),
        ("138 0000 1234", "138****1234"),
        ("0471-6912345", "0471-*****45"),
        ("12345", "*****"),
        (None, None),
    ],
)
def test_mask_phone_hides_the_middle(phone: str | None, masked: str | None) -> None:
    assert mask_phone(phone) == masked


def test_masked_phone_never_contains_the_full_number() -> None:
    for phone in ("13912345678", "0472-5123456", "04715123456"):
        out = mask_phone(phone)
        assert out is not None and "*" in out
        assert phone.replace("-", "") not in out.replace("-", "")
