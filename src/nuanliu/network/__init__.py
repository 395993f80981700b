"""Network model: typed tables per element kind, validation, I/O, examples."""
