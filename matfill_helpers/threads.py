"""Thread use on the CPU: one torch thread for small problems, the caller's setting otherwise.

On a small problem torch's worker threads spend more time waiting for each other than computing,
and when another program keeps a core busy each parallel step waits for the thread that shares
that core: a 64 x 64 gradient descent then takes 30 s with two threads instead of 0.2 s with one,
and ALS on a 400 x 400 photo 1.8 s instead of 0.3 s. ``reconstruct`` and ``factorize``
therefore run every problem of at most ``SMALL_PROBLEM`` values (a 512 x 512 RGB image) with one
thread, and restore the caller's setting afterwards. Larger problems keep
``torch.get_num_threads()`` as the caller set it (``OMP_NUM_THREADS``, ``torch.set_num_threads``).
"""

from __future__ import annotations

import contextlib

import torch

#: Problems with at most this many values run with one torch thread (0 turns the rule off).
SMALL_PROBLEM = 3 * 512 * 512


@contextlib.contextmanager
def num_threads(n):
    """Run the block with ``n`` torch threads, then restore the caller's setting.

    >>> before = torch.get_num_threads()
    >>> with num_threads(1):
    ...     inside = torch.get_num_threads()
    >>> inside, torch.get_num_threads() == before
    (1, True)
    """
    before = torch.get_num_threads()
    if before == n:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def one_thread():
    """Run the block with one torch thread, then restore the caller's setting.

    For code that runs its own workers (Python threads, each calling torch on its own share):
    torch's worker threads would only compete with them.

    >>> before = torch.get_num_threads()
    >>> with one_thread():
    ...     inside = torch.get_num_threads()
    >>> inside, torch.get_num_threads() == before
    (1, True)
    """
    return num_threads(1)


@contextlib.contextmanager
def threads_for(x):
    """Use one torch thread while working on ``x`` if it is a small CPU tensor; restore after.

    Parameters
    ----------
    x : torch.Tensor, the problem's data (its size and device decide)

    Examples
    --------
    >>> before = torch.get_num_threads()
    >>> with threads_for(torch.zeros(3, 64, 64)):
    ...     inside = torch.get_num_threads()
    >>> inside, torch.get_num_threads() == before
    (1, True)
    """
    small = x.device.type == "cpu" and x.numel() <= SMALL_PROBLEM
    with one_thread() if small else contextlib.nullcontext():
        yield
