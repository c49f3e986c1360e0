"""A live explorer: sliders for rank and missing proportion, the reconstruction redrawn on change.

``explorer()`` returns an :class:`Explorer`. In a running notebook (Jupyter, VS Code, Colab) it
displays as ipywidgets controls; every change recomputes one setting with
:func:`~matfill_helpers.explore.static_explorer.explore_setting` (synchronously, so code can drive
it) and caches it, so returning to a setting is instant. Images are sent as PNG bytes (no
matplotlib per update).
Displayed, an ``Explorer`` offers two representations of itself: the live widget view
(``application/vnd.jupyter.widget-view+json``) and, as ``text/html``, a view that needs no
kernel: for ALS a :class:`~matfill_helpers.explore.browser_explorer.BrowserExplorer`, which
recomputes any rank, proportion, seed or photo in the reader's browser (JavaScript), for the other
methods a :class:`~matfill_helpers.explore.static_explorer.StaticExplorer` precomputed on a grid of
ranks x proportions. A notebook front end with a kernel shows the widget; the book's HTML builder
is told to prefer ``text/html`` (``nb_mime_priority_overrides`` in ``_config.yml``), so the
published page shows controls that work without a kernel instead of a dead widget.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from .._validation import (
    _describe,
    _fail,
    check_choice,
    check_int,
    check_prop,
)
from ..evaluation.experiment import _check_props, _check_ranks
from ..methods.registry import _RANKLESS, METHODS, _check_options
from .browser_explorer import (
    ALS_DEFAULTS,
    DEFAULT_SIZE,
    BrowserExplorer,
    image_name,
    load_fitted,
)
from .static_explorer import StaticExplorer, encode_image, explore_setting

#: The proportions offered by the slider (and the static grid's default rows).
PROP_MIN, PROP_MAX, PROP_STEP = 0.05, 0.95, 0.05
STATIC_PROPS = (0.1, 0.2, 0.4, 0.6, 0.8)
STATIC_RANKS = (2, 5, 10, 25, 50)


def _key_prop(prop):
    return round(
        float(prop), 6
    )  # slider floats like 0.30000000000000004 share a cache entry with 0.3


class Explorer:
    """Live controls for one image: rank, missing proportion, method and seed.

    Use :func:`explorer` to make one. The controls are attributes, so code can drive them:
    ``ui.rank_slider.value = 20`` recomputes before it returns; ``ui.result`` holds the scores.

    Attributes
    ----------
    img : torch.Tensor of shape (3, m, n), the original image
    rank_slider : ipywidgets.IntSlider
    prop_slider : ipywidgets.FloatSlider (missing proportion)
    method_dropdown : ipywidgets.Dropdown (one of ``mh.METHODS``)
    seed_box : ipywidgets.BoundedIntText
    original_image, masked_image, recon_image : ipywidgets.Image (PNG)
    scores : ipywidgets.HTML
    widget : ipywidgets.VBox, the whole UI
    result : dict with ``method, rank, prop, seed, rmse, psnr, rmse_missing, psnr_missing`` (all
        pixels, then missing pixels only), ``recon`` (3, m, n), ``seconds`` (compute time of that
        setting) and ``cached`` (True when it came from the cache)
    hits, misses : int, cache statistics
    """

    def __init__(
        self,
        img=None,
        *,
        method="als",
        rank=10,
        prop=0.5,
        seed=0,
        size=DEFAULT_SIZE,
        max_rank=50,
        options=None,
        static=True,
        static_ranks=STATIC_RANKS,
        static_props=STATIC_PROPS,
        display_px=192,
        cache_size=128,
    ):
        import ipywidgets as w

        name = "china" if img is None else img
        img = load_fitted(img, size, func="explorer")
        self.image_name = image_name(name)
        self.img = img.detach().cpu()
        n = min(self.img.shape[1:])
        check_choice(method, set(METHODS), func="explorer", name="method")
        max_rank = check_int(max_rank, func="explorer", name="max_rank", low=1)
        max_rank = min(max_rank, n)
        rank = check_int(
            rank, func="explorer", name="rank", low=1, high=max_rank
        )
        check_prop(prop, func="explorer", low=PROP_MIN, high=PROP_MAX)
        seed = check_int(seed, func="explorer", name="seed", low=0)
        self.options = self._check_options(options)
        if not isinstance(static, bool):
            _fail(
                "explorer",
                "static",
                "a bool",
                _describe(static),
                exc=TypeError,
            )
        self.static = static
        static_ranks = _check_ranks(
            static_ranks, func="explorer", name="static_ranks", high=None
        )
        self.static_ranks = [r for r in static_ranks if r <= max_rank] or [
            max_rank
        ]
        self.static_props = _check_props(
            static_props, func="explorer", name="static_props"
        )
        self.display_px = check_int(
            display_px, func="explorer", name="display_px", low=16, high=2048
        )
        self.cache_size = check_int(
            cache_size, func="explorer", name="cache_size", low=1
        )
        scale = max(
            1, round(self.display_px / max(self.img.shape[1:]))
        )  # shown enlarged by a whole factor
        # (method, rank, prop, seed) -> setting result, least recently used first
        self._cache = OrderedDict()
        self._masked_png = {}  # (prop, seed) -> PNG bytes
        self.hits = self.misses = 0
        self.result = {}

        common = dict(
            continuous_update=False, style={"description_width": "initial"}
        )
        self.rank_slider = w.IntSlider(
            value=rank,
            min=1,
            max=max_rank,
            step=1,
            description="rank",
            **common,
        )
        self.prop_slider = w.FloatSlider(
            value=prop,
            min=PROP_MIN,
            max=PROP_MAX,
            step=PROP_STEP,
            description="missing",
            readout_format=".0%",
            **common,
        )
        self.method_dropdown = w.Dropdown(
            options=sorted(METHODS),
            value=method,
            description="method",
            layout=w.Layout(width="11em"),
        )
        self.seed_box = w.BoundedIntText(
            value=seed,
            min=0,
            max=2**31 - 1,
            description="seed",
            layout=w.Layout(width="9em"),
        )
        # PNGs at the image's own size (small messages, small saved state), enlarged by the browser
        # without smoothing (the class below sets image-rendering: pixelated)
        width = str(self.img.shape[2] * scale)
        self.original_image, self.masked_image, self.recon_image = (
            w.Image(format="png", width=width) for _ in range(3)
        )
        for image in (
            self.original_image,
            self.masked_image,
            self.recon_image,
        ):
            image.add_class("mfx-pixelated")
        self.original_image.value = self._png(self.img)
        self.scores = w.HTML()

        def column(image, caption):
            return w.VBox([image, w.HTML(f"<center>{caption}</center>")])

        self.widget = w.VBox(
            [
                w.HBox(
                    [
                        self.rank_slider,
                        self.prop_slider,
                        self.method_dropdown,
                        self.seed_box,
                    ],
                    layout=w.Layout(flex_flow="row wrap"),
                ),
                w.HBox(
                    [
                        column(self.original_image, "original"),
                        column(
                            self.masked_image, "masked (missing in magenta)"
                        ),
                        column(self.recon_image, "reconstruction"),
                    ],
                    layout=w.Layout(flex_flow="row wrap"),
                ),
                self.scores,
                w.HTML(
                    "<style>.mfx-pixelated { image-rendering: pixelated; }</style>"
                ),
            ]
        )
        for control in (
            self.rank_slider,
            self.prop_slider,
            self.method_dropdown,
            self.seed_box,
        ):
            control.observe(self._on_change, names="value")
        self.update()

    @staticmethod
    def _check_options(options):
        if options is None:
            return {}
        if not isinstance(options, dict) or not all(
            isinstance(v, dict) for v in options.values()
        ):
            _fail(
                "explorer",
                "options",
                "a dict mapping a method name to a dict of its options, e.g. "
                "{'gd': mh.GD_TUNED}",
                _describe(options),
                exc=TypeError,
            )
        for name in options:
            check_choice(name, set(METHODS), func="explorer", name="options")
        # each method's values checked here, before any work, as reconstruct would
        return {
            name: _check_options(name, opts, "explorer")
            for name, opts in options.items()
        }

    def _png(self, img):
        return encode_image(img, fmt="png")

    def setting(self):
        """The current ``(method, rank, prop, seed)`` read from the controls."""
        return (
            self.method_dropdown.value,
            int(self.rank_slider.value),
            _key_prop(self.prop_slider.value),
            int(self.seed_box.value),
        )

    def compute(self, method, rank, prop, seed):
        """One setting's result (from the cache if computed before); updates the statistics."""
        key = (method, int(rank), _key_prop(prop), int(seed))
        if key in self._cache:
            self.hits += 1
            self._cache.move_to_end(key)
            return self._cache[key], True
        self.misses += 1
        out = explore_setting(
            self.img,
            prop=key[2],
            rank=key[1],
            method=method,
            seed=key[3],
            **self.options.get(method, {}),
        )
        entry = {
            k: out[k]
            for k in (
                "mask",
                "recon",
                "rmse",
                "psnr",
                "rmse_missing",
                "psnr_missing",
                "seconds",
            )
        }
        entry["png"] = self._png(out["recon"])
        if key[2:] not in self._masked_png:
            self._masked_png[key[2:]] = self._png(out["masked"])
        self._cache[key] = entry
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return entry, False

    def update(self):
        """Compute (or fetch from the cache) the controls' setting, redraw, return ``result``."""
        method, rank, prop, seed = self.setting()
        self.rank_slider.disabled = method in _RANKLESS
        t0 = time.perf_counter()
        entry, cached = self.compute(method, rank, prop, seed)
        self.masked_image.value = self._masked_png[(prop, seed)]
        self.recon_image.value = entry["png"]
        self.result = dict(
            method=method,
            rank=rank,
            prop=prop,
            seed=seed,
            rmse=entry["rmse"],
            psnr=entry["psnr"],
            rmse_missing=entry["rmse_missing"],
            psnr_missing=entry["psnr_missing"],
            recon=entry["recon"],
            seconds=entry["seconds"],
            cached=cached,
            update_seconds=time.perf_counter() - t0,
        )
        r = self.result
        how = "cached" if cached else f"computed in {entry['seconds']:.2f} s"
        self.scores.value = (
            f"<b>All pixels</b>: RMSE {r['rmse']:.4f}, PSNR {r['psnr']:.2f} dB"
            f" &nbsp;&nbsp; <b>Missing pixels</b>: RMSE {r['rmse_missing']:.4f}, "
            f"PSNR {r['psnr_missing']:.2f} dB &nbsp;&nbsp; <small>({how})</small>"
        )
        return self.result

    def _on_change(self, change):
        try:
            self.update()
        except (
            Exception
        ) as err:  # show the message in the UI, then let the kernel log it too
            self.scores.value = f"<b>Error</b>: {type(err).__name__}: {err}"
            raise

    def static_explorer(
        self, *, ranks=None, props=None, title=None, fmt="jpeg"
    ):
        """The precomputed explorer of the current method and seed on a grid ``ranks`` x ``props``.

        Settings are computed through the same cache as the live controls, so the numbers agree.
        """
        func = "Explorer.static_explorer"
        method, rank, prop, seed = self.setting()
        high = None if method in _RANKLESS else min(self.img.shape[1:])
        ranks = _check_ranks(
            self.static_ranks if ranks is None else ranks,
            func=func,
            high=high,
        )
        props = _check_props(
            self.static_props if props is None else props, func=func
        )
        results = {
            (p, r): self.compute(method, r, p, seed)[0]
            for p in props
            for r in ranks
        }
        near_p = min(props, key=lambda p: abs(p - prop))
        near_r = min(ranks, key=lambda r: abs(r - rank))
        if title is None:
            title = (
                f"{method.upper()}, seed {seed}: {len(ranks)} ranks x "
                f"{len(props)} proportions precomputed "
                "(run the notebook for live controls)"
            )
        return StaticExplorer(
            self.img,
            results,
            props=props,
            ranks=ranks,
            prop=near_p,
            rank=near_r,
            title=title,
            fmt=fmt,
            display_px=self.display_px,
        )

    def browser_explorer(self, *, title=None):
        """The kernel-free explorer computed in the browser, starting at the current setting.

        Only for ALS (the method the page's JavaScript implements) with at most the options
        ``ridge``, ``max_sweeps`` and ``tol``; a ``prop`` is rounded to a whole percentage.
        """
        method, rank, prop, seed = self.setting()
        options = self.options.get("als", {})
        if method != "als" or not set(options) <= set(ALS_DEFAULTS):
            _fail(
                "Explorer.browser_explorer",
                "method",
                "'als' with at most the options "
                f"{sorted(ALS_DEFAULTS)} (what the page computes)",
                f"{method!r} with options {sorted(options)}",
                "Use static_explorer() for the other methods.",
            )
        return BrowserExplorer(
            self.img,
            rank=rank,
            prop=round(prop, 2),
            seed=seed,
            max_rank=self.rank_slider.max,
            title=title,
            image_name=self.image_name,
            display_px=self.display_px,
            **options,
        )

    def _html(self):
        """The ``text/html`` view: computed in the browser for ALS, else precomputed on a grid."""
        options = self.options.get("als", {})
        if self.method_dropdown.value == "als" and set(options) <= set(
            ALS_DEFAULTS
        ):
            return self.browser_explorer().html
        return self.static_explorer().html

    def close(self):
        """Empty the images, close every widget and drop the cache.

        A notebook saves the last state of each widget it displayed or created; closing an explorer
        that is no longer needed keeps its images out of the saved file.
        """
        for image in (
            self.original_image,
            self.masked_image,
            self.recon_image,
        ):
            image.value = b""
        for control in (
            self.rank_slider,
            self.prop_slider,
            self.method_dropdown,
            self.seed_box,
        ):
            control.unobserve(self._on_change, names="value")
        self._close(self.widget)
        self._cache.clear()
        self._masked_png.clear()

    @staticmethod
    def _close(widget):
        for child in getattr(widget, "children", ()):
            Explorer._close(child)
        widget.close()

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = dict(self.widget._repr_mimebundle_() or {})
        method, rank, prop, seed = self.setting()
        bundle["text/plain"] = (
            f"Explorer({method!r}, rank={rank}, prop={prop}, seed={seed}): "
            f"PSNR {self.result['psnr']:.2f} dB"
        )
        if self.static:
            bundle["text/html"] = self._html()
        return bundle

    def __repr__(self):
        method, rank, prop, seed = self.setting()
        return (
            f"Explorer(method={method!r}, rank={rank}, prop={prop}, seed={seed}, "
            f"size={tuple(self.img.shape[1:])})"
        )


def explorer(
    img=None,
    *,
    method="als",
    rank=10,
    prop=0.5,
    seed=0,
    size=DEFAULT_SIZE,
    max_rank=50,
    options=None,
    static=True,
    static_ranks=STATIC_RANKS,
    static_props=STATIC_PROPS,
    display_px=192,
):
    """An interactive reconstruction explorer: rank and missing-proportion sliders, method, seed.

    Parameters
    ----------
    img : torch.Tensor of shape (3, m, n) in [0, 1], or a sample name / path (a str or
        ``pathlib.Path``) for :func:`~matfill_helpers.load_image` (default ``"china"``)
    method : str, one of ``mh.METHODS`` (the dropdown's first value)
    rank : int in [1, max_rank]; prop : float in [0.05, 0.95]; seed : int >= 0 (the first setting)
    size : int or (int, int), the size of an image loaded here: the whole photo is fitted to it
        with :func:`~matfill_helpers.fit_image` (default 96, ``DEFAULT_SIZE``: small enough for
        the browser explorer to update in well under 0.3 s)
    max_rank : int, the rank slider's maximum (at most ``min(m, n)``)
    options : dict mapping a method name to its options, e.g. ``{"gd": mh.GD_TUNED}``
    static : bool, also offer a kernel-free view as ``text/html`` when displayed (what the HTML
        book shows): the :class:`~matfill_helpers.BrowserExplorer` for ALS, the precomputed
        :class:`~matfill_helpers.StaticExplorer` grid for the other methods
    static_ranks, static_props : the static explorer's grid (ranks above ``max_rank`` are dropped)
    display_px : int, the shown image width (pixels enlarged without smoothing)

    Returns
    -------
    Explorer

    Examples
    --------
    >>> ui = explorer(size=32, rank=4, prop=0.3, max_rank=8)
    >>> ui.rank_slider.value = 6  # recomputes at once
    >>> ui.result["rank"], ui.result["psnr"] > ui.result["psnr_missing"]
    (6, True)
    >>> ui.rank_slider.value = 4  # back to the first setting: from the cache
    >>> ui.result["cached"], ui.misses
    (True, 2)
    """
    return Explorer(
        img,
        method=method,
        rank=rank,
        prop=prop,
        seed=seed,
        size=size,
        max_rank=max_rank,
        options=options,
        static=static,
        static_ranks=static_ranks,
        static_props=static_props,
        display_px=display_px,
    )
