"""The data: images (loading, crops), masks (drawn from a seed, nested across proportions) and
the metrics that score a reconstruction. Every method and every chapter builds on these."""
