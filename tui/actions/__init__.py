"""What a list screen and its detail screen both do, in one module per component, so that a
detail screen never imports its list screen (and the other way round)."""
