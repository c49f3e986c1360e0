import torch

import matfill_helpers as mh


def test_default_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert mh.default_device().type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert mh.default_device().type == "mps"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert mh.default_device().type == "cpu"


def test_public_namespace_lists_everything_it_exports():
    for name in mh.__all__:
        assert hasattr(mh, name), name
    assert {"gd", "als", "rff"} <= set(mh.METHODS)
