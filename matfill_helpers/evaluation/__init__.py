"""How methods are compared: settings chosen on held-out observed pixels (``tuning``), grids of
masks and ranks (``experiment``) and the benchmark behind ``make bench`` (``benchmark``)."""
