"""The streamgov terminal UI: k9s-style screens over a streamgov server's REST API."""
