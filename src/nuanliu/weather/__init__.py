"""Weather: EPW typical years, interpolation to any instant, degree days and design facts."""

from nuanliu.weather.climate import (
    DesignFacts,
    HeatingPeriod,
    daily_mean_temp_c,
    design_facts,
    heating_degree_days,
    heating_period,
    monthly_heating_degree_days,
)
from nuanliu.weather.epw import EpwFile, parse_epw, read_epw
from nuanliu.weather.series import TypicalYearWeather
from nuanliu.weather.shipped import load_weather, shipped_epw

__all__ = [
    "DesignFacts",
    "EpwFile",
    "HeatingPeriod",
    "TypicalYearWeather",
    "daily_mean_temp_c",
    "design_facts",
    "heating_degree_days",
    "heating_period",
    "load_weather",
    "monthly_heating_degree_days",
    "parse_epw",
    "read_epw",
    "shipped_epw",
]
