"""Registry: regions, enterprises, stations, communities, buildings, households, sensors."""
