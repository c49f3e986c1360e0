import pytest
import torch

import matfill_helpers as mh
from matfill_helpers import threads
from matfill_helpers.methods.registry import _OPTIONS


@pytest.fixture
def seen_threads():
    """A method that records how many torch threads it ran with (removed afterwards)."""
    seen = []

    def method(masked, *, rank, generator):
        seen.append(torch.get_num_threads())
        return torch.nan_to_num(masked, nan=0.5)

    mh.register_method("_threads_probe", method)
    yield seen
    del mh.METHODS["_threads_probe"], _OPTIONS["_threads_probe"]


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_a_small_problem_runs_on_one_thread_and_the_setting_comes_back(
    seen_threads, two_threads
):
    masked, _ = mh.mask_image(
        mh.load_image("china", size=64), 0.4, generator=0
    )
    mh.reconstruct(masked, rank=2, method="_threads_probe", generator=0)
    assert seen_threads == [1]
    assert torch.get_num_threads() == 2


def test_a_large_problem_keeps_the_callers_threads(
    seen_threads, two_threads, monkeypatch
):
    masked, _ = mh.mask_image(
        mh.load_image("china", size=64), 0.4, generator=0
    )
    monkeypatch.setattr(
        threads, "SMALL_PROBLEM", 3 * 64 * 64 - 1
    )  # just too large
    mh.reconstruct(masked, rank=2, method="_threads_probe", generator=0)
    assert seen_threads == [2]


def test_the_setting_comes_back_after_an_error(two_threads):
    with pytest.raises(RuntimeError, match="inside"):
        with threads.threads_for(torch.zeros(3, 8, 8)):
            assert torch.get_num_threads() == 1
            raise RuntimeError("inside")
    assert torch.get_num_threads() == 2
