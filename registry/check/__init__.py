"""`streamgov check`: the CI schema-compatibility check.

`config` reads the `schemas:` section of `streamgov.yaml`; `sources` and `discovery` map files
to subjects; `baselines` models earlier versions, read by `tree_baseline` (git, directory; git
access in `git`) or `registry_baseline` (any Confluent-compatible registry); `references`
resolves references; `judge` decides one subject (pure), with `pointers` mapping findings to
lines; `runner` runs it all and `report` renders the outcome (`results`) for people and CI.
"""
