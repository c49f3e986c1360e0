import shutil

import pytest
import torch

import matfill_helpers as mh


def pytest_collection_modifyitems(config, items):
    skip_gpu = pytest.mark.skip(reason="needs CUDA")
    skip_node = pytest.mark.skip(reason="needs Node.js (`node` on the PATH)")
    for item in items:
        if "gpu" in item.keywords and not torch.cuda.is_available():
            item.add_marker(skip_gpu)
        if "node" in item.keywords and shutil.which("node") is None:
            item.add_marker(skip_node)


@pytest.fixture(scope="session")
def small_img():
    return mh.load_image("china", size=(48, 64))


@pytest.fixture
def rank2():
    """A random rank-2 60x40 matrix and a mask hiding half its entries (seeded)."""
    g = torch.Generator().manual_seed(0)
    A = torch.randn(60, 2, generator=g) @ torch.randn(
        2, 40, generator=g
    )  # (60, 40), rank 2
    hide = torch.rand(60, 40, generator=g) < 0.5
    Am = A.clone()
    Am[hide] = float("nan")
    return A, Am, hide


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for one test module (tests/chromium.py: a missing browser fails)."""
    from playwright.sync_api import sync_playwright

    from tests.chromium import launch

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
