"""Metered heat billing: tariffs, billing runs, payments, collection, statements."""
