-- Time-range scans over the aggregates (the primary keys lead with the sensor or
-- household). DuckDB needs none: its zone maps prune by time on insertion order.
CREATE INDEX mon_sensor_hourly_hour_idx ON mon_sensor_hourly (hour_ts);
CREATE INDEX mon_household_daily_day_idx ON mon_household_daily (local_day);
