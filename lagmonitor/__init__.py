"""The lag monitor: consumer-group lag sampling, Burrow-style health, and autoscaling signals
with hysteresis.

The core (`lag`, `status`, `controller`, `naive`, `simulation`) is pure: plain functions and
classes over plain data. I/O lives at the edges: `sampler` polls a `Cluster`, `monitor` runs
the background loop and appends events to `_lag_signals`, `api` serves the REST routes and
`metrics` renders Prometheus text.
"""
