"""Solvers: compile the network to arrays, steady thermo-hydraulics."""
