"""The ways of looking: plots (``plotting``), the live explorer with widgets (``widgets``), the
precomputed one (``static_explorer``) and the one that runs in the browser (``browser_explorer``,
with its JavaScript in ``js/``)."""
