"""`streamgov check`: the CI schema-compatibility check.

`config` reads the `schemas:` section of `streamgov.yaml`, `discovery` maps files to subjects,
`baselines` reads earlier versions (git, directory, registry), `runner` compares them with
`registry.compatibility.check`, and `report` renders the outcome for people and CI systems.
"""
