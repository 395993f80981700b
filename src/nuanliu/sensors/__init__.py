"""Sensor simulator: realistic indoor readings with faults, in batch or in real time."""

from nuanliu.sensors.faults import FaultConfig, FaultPlan
from nuanliu.sensors.simulate import (
    READINGS_SCHEMA,
    ReadingStream,
    SensorSimulator,
    simulate_readings,
    synthetic_sensors,
)

__all__ = [
    "READINGS_SCHEMA",
    "FaultConfig",
    "FaultPlan",
    "ReadingStream",
    "SensorSimulator",
    "simulate_readings",
    "synthetic_sensors",
]
