"""EPW reading, the shipped Hohhot year, degree days and design facts."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nuanliu.errors import InvalidInput, NotFound
from nuanliu.weather import (
    TypicalYearWeather,
    design_facts,
    heating_degree_days,
    heating_period,
    load_weather,
    monthly_heating_degree_days,
    parse_epw,
    read_epw,
    shipped_epw,
)
from nuanliu.weather.shipped import DATA_DIR

HOHHOT = "weather/CHN_Nei.Mongol.Hohhot.534630_CSWD.epw"


def _lines(shared_data: Path) -> list[str]:
    return (shared_data / HOHHOT).read_text(encoding="latin-1").splitlines()


def test_shipped_file_is_the_shared_hohhot_file(shared_data: Path) -> None:
    shipped = gzip.decompress((DATA_DIR / "hohhot_cswd.epw.gz").read_bytes())
    assert shipped == (shared_data / HOHHOT).read_bytes()
    assert (DATA_DIR / "README.md").read_text().count("CSWD") >= 1


def test_hohhot_year_is_local_time_and_matches_the_file(shared_data: Path) -> None:
    w = load_weather("hohhot", year=2025)
    assert len(w) == 8760
    assert str(w.index.tz) == "Asia/Shanghai"
    # Row 1 (1 Jan hour 1) is the hour ending 01:00 local standard time (UTC+8).
    assert w.index[0] == pd.Timestamp("2025-01-01 01:00", tz="Asia/Shanghai")
    assert w.index[-1] == pd.Timestamp("2026-01-01 00:00", tz="Asia/Shanghai")
    first = _lines(shared_data)[8].split(",")
    assert w["temp_c"].iloc[0] == float(first[6])
    assert w["rh_pct"].iloc[0] == float(first[8])
    assert w["ghi_w_m2"].iloc[0] == float(first[13])
    assert w["wind_m_s"].iloc[0] == float(first[21])
    # The README's facts about the file.
    assert w["temp_c"].min() == pytest.approx(-23.1)
    jan = w["temp_c"][(w.index - pd.Timedelta(hours=1)).month == 1]
    assert jan.mean() == pytest.approx(-12.2, abs=0.1)


def test_leap_year_repeats_28_february() -> None:
    w = load_weather("hohhot", year=2024)
    assert len(w) == 8784
    feb28 = w.loc["2024-02-28 01:00":"2024-02-29 00:00", "temp_c"].to_numpy()
    feb29 = w.loc["2024-02-29 01:00":"2024-03-01 00:00", "temp_c"].to_numpy()
    np.testing.assert_array_equal(feb28, feb29)


def test_hdd18_of_hohhot_is_about_4525() -> None:
    w = load_weather("hohhot", year=2025)
    assert heating_degree_days(w, 18.0) == pytest.approx(4525, abs=10)
    monthly = monthly_heating_degree_days(w)
    # The .stat file's monthly HDD18 from the same weather file.
    expected = [937, 739, 583, 271, 92, 19, 0, 2, 80, 343, 623, 835]
    np.testing.assert_allclose(monthly.to_numpy(), expected, atol=1.0)
    assert heating_degree_days(w, 10.0) < heating_degree_days(w, 18.0)


def test_heating_period_spans_new_year_and_is_cold() -> None:
    hp = heating_period(load_weather("hohhot", year=2025))
    assert 140 <= hp.days <= 180  # GB 50736 lists 167 days for Hohhot (multi-year)
    assert hp.first_day.month in (10, 11)
    assert hp.last_day.month in (3, 4)
    assert hp.mean_temp_c < -3.0


def test_design_facts() -> None:
    f = design_facts("hohhot", shipped_epw("hohhot"))
    assert f.gb_design_temp_c == -17.0
    assert f.ashrae_db996_c == -21.9
    assert f.ashrae_db990_c == -19.2
    assert (f.season_start_mmdd, f.season_end_mmdd) == ("10-15", "04-15")
    with pytest.raises(NotFound):
        design_facts("atlantis")


def test_typical_year_interpolates_and_wraps_years() -> None:
    ty = TypicalYearWeather.shipped("hohhot")
    w = load_weather("hohhot", year=2025)
    t1, t2 = w["temp_c"].iloc[0], w["temp_c"].iloc[1]
    times = pd.DatetimeIndex(
        ["2025-01-01 01:00", "2025-01-01 01:30", "2031-01-01 02:00"], tz="Asia/Shanghai"
    )
    got = ty.at_times(times)["temp_c"]
    assert got[0] == pytest.approx(t1)
    assert got[1] == pytest.approx((t1 + t2) / 2)
    assert got[2] == pytest.approx(t2)  # any year maps onto the typical year
    # Just after midnight on 1 January interpolates from 31 Dec 24:00 of the file.
    just_after = ty.at_times(pd.Timestamp("2026-01-01 00:30", tz="Asia/Shanghai"))["temp_c"]
    assert just_after[0] == pytest.approx((w["temp_c"].iloc[-1] + t1) / 2)


def _write(tmp_path: Path, lines: list[str]) -> Path:
    p = tmp_path / "bad.epw"
    p.write_text("\n".join(lines) + "\n", encoding="latin-1")
    return p


def test_malformed_value_names_file_and_line(shared_data: Path, tmp_path: Path) -> None:
    lines = _lines(shared_data)
    parts = lines[8 + 100].split(",")
    parts[6] = "warm"
    lines[8 + 100] = ",".join(parts)
    with pytest.raises(InvalidInput) as err:
        read_epw(_write(tmp_path, lines))
    assert err.value.details["line"] == 109
    assert "bad.epw:109" in err.value.message and "column 7" in err.value.message


def test_missing_value_code_is_refused(shared_data: Path, tmp_path: Path) -> None:
    lines = _lines(shared_data)
    parts = lines[8 + 5].split(",")
    parts[6] = "99.9"  # EPW's missing dry-bulb code
    lines[8 + 5] = ",".join(parts)
    with pytest.raises(InvalidInput, match=r"bad\.epw:14: column 7"):
        read_epw(_write(tmp_path, lines))


def test_truncated_and_shuffled_files_are_refused(shared_data: Path, tmp_path: Path) -> None:
    lines = _lines(shared_data)
    with pytest.raises(InvalidInput, match="8 header lines and 8760"):
        read_epw(_write(tmp_path, lines[:5000]))
    swapped = lines.copy()
    swapped[8 + 10], swapped[8 + 11] = swapped[8 + 11], swapped[8 + 10]
    with pytest.raises(InvalidInput, match=r"bad\.epw:19: expected month/day/hour"):
        read_epw(_write(tmp_path, swapped))
    short = lines.copy()
    short[8 + 3] = "2005,1,1,4,0"
    with pytest.raises(InvalidInput, match=r"bad\.epw:12: 5 columns"):
        read_epw(_write(tmp_path, short))
    bad_loc = lines.copy()
    bad_loc[0] = "NOT A LOCATION"
    with pytest.raises(InvalidInput, match=r"bad\.epw:1:"):
        read_epw(_write(tmp_path, bad_loc))


def test_unknown_names_and_missing_files() -> None:
    with pytest.raises(InvalidInput, match="not found"):
        load_weather("/nonexistent/file.epw")
    with pytest.raises(NotFound, match="hohhot"):
        shipped_epw("nowhere")


def test_reads_the_harbin_file_too(shared_data: Path) -> None:
    epw = read_epw(shared_data / "weather/CHN_Heilongjiang.Harbin.509530_CSWD.epw")
    w = epw.for_year(2025)
    assert heating_degree_days(w) == pytest.approx(5418, abs=15)
    assert heating_degree_days(w) > heating_degree_days(load_weather("hohhot", 2025))


@given(
    row=st.integers(min_value=0, max_value=8759),
    col=st.sampled_from([6, 8, 13, 21]),
    junk=st.sampled_from(["", "abc", "1e999", "nan?", "--5"]),
)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_bad_cell_is_reported_at_its_line(
    shared_data: Path, row: int, col: int, junk: str
) -> None:
    lines = _hohhot_lines(shared_data)
    parts = lines[8 + row].split(",")
    parts[col] = junk
    text = "\n".join([*lines[: 8 + row], ",".join(parts), *lines[9 + row :]])
    with pytest.raises(InvalidInput) as err:
        parse_epw(text, "x.epw")
    assert err.value.details["line"] == 9 + row
    assert f"column {col + 1}" in err.value.message


@given(
    row=st.integers(min_value=0, max_value=8759),
    temp=st.floats(min_value=-60, max_value=60, allow_nan=False).map(lambda x: round(x, 1)),
)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_valid_value_is_read_back(shared_data: Path, row: int, temp: float) -> None:
    lines = _hohhot_lines(shared_data)
    parts = lines[8 + row].split(",")
    parts[6] = f"{temp}"
    text = "\n".join([*lines[: 8 + row], ",".join(parts), *lines[9 + row :]])
    epw = parse_epw(text, "x.epw")
    assert epw.hourly["temp_c"].iloc[row] == temp


_LINES: list[str] = []


def _hohhot_lines(shared_data: Path) -> list[str]:
    if not _LINES:
        _LINES.extend(_lines(shared_data))
    return _LINES
