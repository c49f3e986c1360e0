"""Which device to compute on."""

import torch


def default_device():
    """The best available device: CUDA, then Apple's MPS, then the CPU.

    For notebooks. The helpers themselves return results on their input's device.

    >>> default_device().type in {"cuda", "mps", "cpu"}
    True
    """
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
