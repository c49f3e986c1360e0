"""The methods: one module each, and the registry that dispatches to them.

- ``registry``: ``METHODS``, ``reconstruct``, ``factorize``, ``register_method``;
- ``gd``: the blog's masked gradient descent (Adam on W and H);
- ``als``: alternating ridge least squares, centring and the pyramid fill;
- ``softimpute``: singular-value soft-thresholding, SoftImpute and Hard-Impute;
- ``rff``: random Fourier features with a ridge fit;
- ``sparse``: the sparse DCT fill (iterative thresholding of block DCTs);
- ``patches``: low-rank fits of clustered patches (registers itself on import);
- ``peers``: the field's inpainting methods, to compare with: ``biharmonic`` (scikit-image),
  ``telea``, ``navier_stokes`` and ``fsr`` (OpenCV), ``tv`` (total variation) and ``halrtc``
  (low-rank tensor completion); each registers itself under its name on import.
"""

from . import patches as _patches  # noqa: F401  (registers method "patches")
from . import peers as _peers  # noqa: F401  (registers the peers' methods)
