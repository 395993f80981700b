"""Sensor simulator: realistic indoor readings from a building thermal model."""
