"""The lag monitor: consumer-group lag sampling, Burrow-style health, and autoscaling signals
with hysteresis.

The core is pure, plain functions and classes over plain data: `lag` (offset and time lag,
rates), `status` (Burrow's rules), `controller` (the recommendation with hysteresis), `naive`
(the comparison controller), `simulation` (traces and the harness) and `tracker` (windows,
statuses, controllers and change events per group). I/O lives at the edges: `sampler` reads a
`Cluster`, `monitor` runs the loop and appends events to `_lag_signals`, `api` serves the REST
routes (response models in `schemas`, built by `reports`) and `metrics` renders Prometheus text.
See docs/lag-monitor.md.
"""
