"""matfill_helpers: the tested helpers behind the matfill book.

Conventions: an image is a float32 tensor of shape (3, m, n) in [0, 1]; a mask is a bool tensor of
shape (m, n), True = missing; a masked image holds NaN at missing pixels in all three channels.

>>> import matfill_helpers as mh
>>> sorted(mh.METHODS)  # doctest: +NORMALIZE_WHITESPACE
['als', 'biharmonic', 'fsr', 'gd', 'halrtc', 'hardimpute', 'navier_stokes', 'patches', 'rff',
 'softimpute', 'telea', 'tv']
"""

from .core.images import SAMPLES, center_crop, load_image, to_hwc
from .core.masking import (
    apply_mask,
    block_mask_image,
    mask_image,
    missing_mask,
    random_mask_image,
)
from .core.metrics import metrics
from .device import default_device
from .evaluation.experiment import run_grid
from .evaluation.tuning import holdout, tune
from .explore.browser_explorer import (
    BrowserExplorer,
    browser_explorer,
    fit_image,
)
from .explore.plotting import (
    image_to_rgb,
    plot_image_completion,
    plot_loss_curves,
    plot_metric_curves,
    show_images,
)
from .explore.static_explorer import (
    StaticExplorer,
    explore_setting,
    static_explorer,
)
from .explore.widgets import Explorer, explorer
from .glue import glue
from .learn import check, self_check
from .methods.patches import (
    reconstruct_patches,
    smooth_fill,
)  # registers method "patches"
from .methods.registry import (
    GD_TUNED,
    METHODS,
    factorize,
    reconstruct,
    register_method,
)
from .methods.rff import (
    create_coordinate_map,
    create_linear_model,
    create_rff_features,
    extract_not_nan_coordinates_pixels,
    fit_ridge,
    train,
)
from .methods.sparse import dct_fill

__version__ = "0.1.0"

__all__ = [
    "GD_TUNED",
    "METHODS",
    "SAMPLES",
    "apply_mask",
    "block_mask_image",
    "center_crop",
    "check",
    "create_coordinate_map",
    "create_linear_model",
    "create_rff_features",
    "dct_fill",
    "default_device",
    "extract_not_nan_coordinates_pixels",
    "factorize",
    "fit_ridge",
    "glue",
    "holdout",
    "load_image",
    "mask_image",
    "image_to_rgb",
    "metrics",
    "missing_mask",
    "plot_image_completion",
    "plot_loss_curves",
    "plot_metric_curves",
    "run_grid",
    "show_images",
    "random_mask_image",
    "reconstruct",
    "register_method",
    "to_hwc",
    "train",
    "tune",
    "BrowserExplorer",
    "Explorer",
    "StaticExplorer",
    "browser_explorer",
    "fit_image",
    "explore_setting",
    "explorer",
    "static_explorer",
    "reconstruct_patches",
    "self_check",
    "smooth_fill",
]
