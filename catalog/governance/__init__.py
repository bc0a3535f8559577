"""Governance as code: strict files, plan and apply, import."""
