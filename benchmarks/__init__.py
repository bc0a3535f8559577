"""Side-by-side benchmarks; each prints its figures next to a named anchor."""
