"""Matrix factorization by gradient descent (Adam), the blog post's method, batched.

Minimise, for each matrix ``A[b]`` of a batch, ``loss(W[b] @ H[b] - A[b] on observed entries)``
(+ an optional ridge term) with Adam. The defaults are the blog post's: N(0, 1) init, Adam with
lr 0.01, 1000 steps, loss = Frobenius norm of the difference on observed entries. The matrices of a
batch have separate parameters, so the batch gives exactly the updates of separate runs.
"""

from __future__ import annotations

import torch


def init_factors(batch, m, n, k, *, generator, scale=1.0, device=None):
    """Draw W (batch, m, k) and H (batch, k, n) from N(0, scale**2), matrix by matrix.

    Draws happen on the CPU in the order W[0], H[0], W[1], H[1], ... so a batch of three matrices
    gets the same factors as three single-matrix calls sharing one generator.

    >>> W, H = init_factors(2, 4, 3, 2, generator=torch.Generator().manual_seed(0))
    >>> W.shape, H.shape
    (torch.Size([2, 4, 2]), torch.Size([2, 2, 3]))
    """
    Ws, Hs = [], []
    for _ in range(batch):
        Ws.append(torch.randn(m, k, generator=generator) * scale)  # (m, k)
        Hs.append(torch.randn(k, n, generator=generator) * scale)  # (k, n)
    return torch.stack(Ws).to(device), torch.stack(Hs).to(device)


def zero_fit_loss(A, loss="norm"):
    """The loss of the zero fit ``W @ H = 0`` for each matrix of ``A`` (batch, m, n): (batch,).

    The scale of the data in the units of ``loss``: GD has broken down when its loss ends
    orders of magnitude above both its start and this.

    >>> zero_fit_loss(torch.tensor([[[3.0, float("nan")], [4.0, 0.0]]])).tolist()
    [5.0]
    """
    observed = ~torch.isnan(A)  # (B, m, n)
    zero = torch.zeros((), dtype=A.dtype, device=A.device)
    sq = torch.where(observed, A, zero).pow(2)  # 0 where missing
    sse = sq.flatten(1).sum(1)  # (B,)
    if loss == "norm":
        return sse.sqrt()
    if loss == "sse":
        return sse
    return sse / observed.flatten(1).sum(1).clamp_min(1)


def factorize_gd(
    A,
    k,
    *,
    generator,
    lr=0.01,
    steps=1000,
    init_scale=1.0,
    ridge=0.0,
    loss="norm",
    tol=None,
    check_every=10,
):
    """Factorize each matrix of ``A`` (batch, m, n), NaN = missing, as ``W @ H`` of rank ``k``.

    Parameters
    ----------
    A : torch.Tensor of shape (batch, m, n), float, NaN at missing entries
    k : int, the rank
    generator : torch.Generator
    lr, steps : Adam's learning rate and the maximum number of steps (blog post: 0.01, 1000)
    init_scale : float, standard deviation of the initial factors (blog post: 1.0)
    ridge : float, adds ``ridge * (||W||^2 + ||H||^2)`` per matrix (blog post: 0)
    loss : ``"norm"`` (blog post: ``||R||``), ``"sse"`` (sum of squared observed residuals: with
        ``ridge`` this is the ALS objective) or ``"mse"`` (their mean)
    tol : float or None
        Early stopping: stop when, over the last ``check_every`` steps, every matrix's loss fell by
        less than ``tol`` relative to its value (``None``: always run ``steps`` steps).

    Returns
    -------
    W : (batch, m, k), H : (batch, k, n), history : (n_steps, batch) tensor of per-matrix losses
    """
    A = A.detach()  # data, not a parameter: never differentiated through
    B, m, n = A.shape
    observed = ~torch.isnan(A)  # (B, m, n)
    A0 = torch.where(
        observed, A, torch.zeros((), dtype=A.dtype, device=A.device)
    )
    count = observed.flatten(1).sum(1).clamp_min(1)  # (B,)
    W, H = init_factors(
        B, m, n, k, generator=generator, scale=init_scale, device=A.device
    )
    W, H = W.to(A.dtype).requires_grad_(), H.to(A.dtype).requires_grad_()
    opt = torch.optim.Adam([W, H], lr=lr)
    history = []
    for step in range(steps):
        R = (
            W @ H - A0
        ) * observed  # (B, m, k) @ (B, k, n) -> (B, m, n), zero where missing
        if loss == "norm":
            per = R.flatten(1).norm(dim=1)  # (B,)
        elif loss == "sse":
            per = R.pow(2).flatten(1).sum(1)
        else:
            per = R.pow(2).flatten(1).sum(1) / count
        if ridge:
            per = per + ridge * (
                W.pow(2).flatten(1).sum(1) + H.pow(2).flatten(1).sum(1)
            )
        opt.zero_grad()
        per.sum().backward()
        opt.step()
        history.append(per.detach())
        if tol is not None and step >= check_every and step % check_every == 0:
            before, now = history[-1 - check_every], history[-1]
            if bool(((before - now) <= tol * now.abs()).all()):
                break
    return W.detach(), H.detach(), torch.stack(history)
