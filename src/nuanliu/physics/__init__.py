"""Water properties, friction and heat loss: pure functions on numpy arrays."""
