"""A sparse fill: small blocks of a photograph have few large DCT coefficients.

The discrete cosine transform (DCT) of a 16 x 16 block of a photograph has a few large
coefficients and many near zero (the reason JPEG works). :func:`dct_fill` looks for the image
whose blocks are that sparse and that agrees with the observed pixels, by iterative
thresholding (Guleryuz 2006; Elad, Starck, Querre and Donoho 2005)::

    repeat, with a threshold tau falling from tau_max to tau_min:
        cut the current estimate into blocks (at a random shift),
        zero every DCT coefficient smaller than tau, transform back,
        put the observed pixels back

Large thresholds first keep only the strongest structure (smooth shading, the main edges); as
tau falls, finer detail that the observed pixels support comes in. OpenCV's frequency-selective
reconstruction (FSR) belongs to the same family: it picks Fourier basis functions one by one.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .._validation import check_image, check_int, check_positive


def dct_matrix(size, *, dtype=torch.float32, device=None):
    """The orthonormal DCT-II matrix (size, size): ``D @ x`` transforms a column ``x``.

    >>> D = dct_matrix(4)
    >>> torch.allclose(D @ D.T, torch.eye(4), atol=1e-6)
    True
    """
    k = torch.arange(size, dtype=torch.float64)[:, None]
    n = torch.arange(size, dtype=torch.float64)[None]
    D = torch.cos(math.pi * (n + 0.5) * k / size) * math.sqrt(2 / size)
    D[0] /= math.sqrt(2)
    return D.to(dtype=dtype, device=device)


#: Block rows transformed together: a band small enough to stay in the CPU's cache.
BAND_BLOCKS = 4


def threshold_blocks(x, tau, *, block, shift):
    """Zero the DCT coefficients below ``tau`` of every ``block``-sided block of ``x`` (C, m, n).

    The blocks tile ``x`` shifted by ``shift = (dy, dx)`` (the edges mirrored to fill the
    blocks that overhang). Returns the thresholded image (C, m, n).
    """
    C, m, n = x.shape
    dy, dx = shift
    pad = (dx, (-(n + dx)) % block, dy, (-(m + dy)) % block)
    xp = F.pad(x[None], pad, mode="reflect")[0]  # (C, H, W), H, W multiples
    H, W = xp.shape[1:]
    D = dct_matrix(block, dtype=x.dtype, device=x.device)
    step = BAND_BLOCKS * block
    for a in range(0, H, step):  # a band of block rows at a time
        band = xp[:, a : a + step]  # (C, h, W)
        h = band.shape[1]
        # each block's 2-D DCT without moving the blocks: along the rows of every block (one
        # matmul over all rows of the band), then along their columns
        coef = (band.reshape(-1, block) @ D.T).view(C * h // block, block, W)
        coef = D @ coef  # (C h/b, b, b) @ (C h/b, b, W) -> (C h/b, b, W)
        coef.masked_fill_(coef.abs() < tau, 0.0)
        back = (D.T @ coef).view(
            -1, block
        ) @ D  # the inverse, in reverse order
        band.copy_(back.view(C, h, W))
    return xp[:, dy : dy + m, dx : dx + n]


def dct_fill(
    masked_img,
    *,
    start=None,
    block=16,
    iters=60,
    shifts=2,
    tau_max=0.5,
    tau_min=0.005,
    generator=0,
):
    """Fill a masked (3, m, n) image by iterative thresholding of block DCTs (see the module).

    Parameters
    ----------
    masked_img : torch.Tensor of shape (3, m, n), float in [0, 1], NaN at missing pixels
    start : (3, m, n) or None, the first estimate (default: each channel's observed mean)
    block : int >= 2, the block side (an image smaller than a block uses its smaller side; one
        smaller than 4 pixels gets the start back)
    iters : int >= 1, thresholding steps; tau falls geometrically from ``tau_max`` to
        ``tau_min``
    shifts : int >= 1, block grids (random shifts) averaged in each step
    tau_max, tau_min : float > 0, the first and the last threshold
    generator : torch.Generator or int, draws the shifts

    Returns
    -------
    torch.Tensor of shape (3, m, n), float, in [0, 1], observed pixels unchanged

    >>> from matfill_helpers import load_image, mask_image, metrics
    >>> img = load_image("china", size=64)
    >>> masked, mask = mask_image(img, 0.8, generator=0)
    >>> filled = dct_fill(masked)
    >>> bool(torch.equal(filled[:, ~mask], img[:, ~mask]))
    True
    """
    func = "dct_fill"
    masked_img = check_image(
        masked_img, func=func, name="masked_img", allow_nan=True
    )
    block = check_int(block, func=func, name="block", low=2)
    iters = check_int(iters, func=func, name="iters", low=1)
    shifts = check_int(shifts, func=func, name="shifts", low=1)
    tau_max = check_positive(tau_max, func=func, name="tau_max")
    tau_min = check_positive(tau_min, func=func, name="tau_min")
    if not isinstance(generator, torch.Generator):
        generator = torch.Generator().manual_seed(int(generator))
    observed = ~torch.isnan(masked_img)
    f = torch.nan_to_num(masked_img)
    if start is None:
        counts = observed.flatten(1).sum(1).clamp_min(1)
        mean = f.flatten(1).sum(1) / counts
        start = mean[:, None, None].expand_as(f)
    x = torch.where(observed, f, start)
    m, n = x.shape[1:]
    block = min(block, m, n)
    if block < 4:  # too small for blocks: nothing to threshold
        return x.clamp(0, 1)
    acc = torch.empty_like(x)
    for t in range(iters):
        tau = tau_max * (tau_min / tau_max) ** (t / max(1, iters - 1))
        acc.zero_()
        for _ in range(shifts):
            dy, dx = torch.randint(
                0, block, (2,), generator=generator
            ).tolist()
            acc += threshold_blocks(x, tau, block=block, shift=(dy, dx))
        x = torch.where(observed, f, acc.div_(shifts))
    return x.clamp(0, 1)
