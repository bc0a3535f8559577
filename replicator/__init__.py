"""Cross-cluster replication: MirrorMaker 2's naming, offset syncs, checkpoints and
translation, with an exact (offset-preserving) mode, between any two clusters."""
