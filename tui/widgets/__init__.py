"""Reusable widgets and dialogs of the terminal UI."""
