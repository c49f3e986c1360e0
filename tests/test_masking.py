import math

import pytest
import torch

import matfill_helpers as mh


@pytest.mark.parametrize("prop", [0.1, 0.4, 0.8])
def test_mask_image_hits_prop_within_sampling_error(prop):
    img = torch.zeros(3, 200, 300)
    _, mask = mh.mask_image(img, prop, generator=1)
    n = mask.numel()
    sd = math.sqrt(prop * (1 - prop) / n)
    assert abs(mask.float().mean().item() - prop) < 4 * sd


def test_mask_image_puts_nan_in_all_channels_only_at_mask(small_img):
    masked, mask = mh.mask_image(small_img, 0.3, generator=0)
    assert mask.dtype == torch.bool and mask.shape == small_img.shape[1:]
    assert torch.equal(torch.isnan(masked), mask.expand(3, -1, -1))
    torch.testing.assert_close(masked[:, ~mask], small_img[:, ~mask])
    assert not torch.isnan(small_img).any()  # the input is not modified


def test_mask_image_same_seed_same_mask_and_generator_object(small_img):
    _, m1 = mh.mask_image(small_img, 0.5, generator=7)
    _, m2 = mh.mask_image(
        small_img, 0.5, generator=torch.Generator().manual_seed(7)
    )
    _, m3 = mh.mask_image(small_img, 0.5, generator=8)
    assert torch.equal(m1, m2)
    assert not torch.equal(m1, m3)


def test_mask_image_matches_seed_post_semantics(small_img):
    # the blog post: mask = torch.rand(img.shape[1:]) < prop
    _, mask = mh.mask_image(small_img, 0.25, generator=3)
    expected = (
        torch.rand(
            small_img.shape[1:], generator=torch.Generator().manual_seed(3)
        )
        < 0.25
    )
    assert torch.equal(mask, expected)


def test_mask_image_does_not_touch_global_rng(small_img):
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    mh.mask_image(small_img, 0.5, generator=None)
    assert torch.equal(before, torch.random.get_rng_state())


@pytest.mark.parametrize(
    "prop, exc, match",
    [
        (
            1.5,
            ValueError,
            r"mask_image: 'prop' must be a float in \[0, 1\]; got 1.5",
        ),
        (-0.1, ValueError, r"'prop' must be a float in \[0, 1\]; got -0.1"),
        (
            float("nan"),
            ValueError,
            r"'prop' must be a float in \[0, 1\]; got nan",
        ),
        ("0.5", TypeError, r"'prop' must be a float in \[0, 1\]; got str"),
    ],
)
def test_mask_image_rejects_bad_prop(small_img, prop, exc, match):
    with pytest.raises(exc, match=match):
        mh.mask_image(small_img, prop, generator=0)


@pytest.mark.parametrize(
    "img, exc, match",
    [
        (
            torch.zeros(48, 64),
            ValueError,
            r"mask_image: 'img' must be a tensor of shape \(3, m, n\); got shape \(48, 64\)",
        ),
        (
            torch.zeros(3, 4, 4, dtype=torch.uint8),
            TypeError,
            r"'img' must be a floating-point tensor",
        ),
        (
            torch.full((3, 4, 4), 2.0),
            ValueError,
            r"'img' must be in \[0, 1\]; got values in \[2, 2\]",
        ),
        (
            torch.full((3, 4, 4), float("nan")),
            ValueError,
            r"'img' must be free of NaN",
        ),
        ([[0.0]], TypeError, r"'img' must be a torch.Tensor; got list"),
    ],
)
def test_mask_image_rejects_bad_image(img, exc, match):
    with pytest.raises(exc, match=match):
        mh.mask_image(img, 0.5, generator=0)


def test_mask_image_rejects_bad_generator(small_img):
    with pytest.raises(
        TypeError,
        match=r"'generator' must be a torch.Generator, an int seed or None; got float",
    ):
        mh.mask_image(small_img, 0.5, generator=1.5)


def test_random_mask_image_hides_exactly_n_pixels(small_img):
    masked, mask = mh.random_mask_image(small_img, 900, generator=0)
    assert int(mask.sum()) == 900
    assert int(torch.isnan(masked).sum()) == 3 * 900
    _, again = mh.random_mask_image(small_img, 900, generator=0)
    assert torch.equal(mask, again)


def test_random_mask_image_rejects_too_many_pixels(small_img):
    with pytest.raises(
        ValueError,
        match=r"random_mask_image: 'n_pixels' must be an int in \[0, 3072\]; got 3073",
    ):
        mh.random_mask_image(small_img, 48 * 64 + 1, generator=0)


def test_block_mask_image_hides_the_rectangle(small_img):
    masked, mask = mh.block_mask_image(
        small_img, height=10, width=20, top=5, left=7
    )
    expected = torch.zeros(48, 64, dtype=torch.bool)
    expected[5:15, 7:27] = True
    assert torch.equal(mask, expected)
    assert torch.isnan(masked[:, 5:15, 7:27]).all()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            dict(height=100),
            r"block_mask_image: 'height' must be an int in \[1, 48\]; got 100",
        ),
        (dict(height=10, top=40), r"'top' must be at most 38"),
        (dict(width=10, left=60), r"'left' must be at most 54"),
    ],
)
def test_block_mask_image_rejects_blocks_outside_the_image(
    small_img, kwargs, match
):
    with pytest.raises(ValueError, match=match):
        mh.block_mask_image(small_img, **kwargs)


def test_missing_mask_recovers_the_mask(small_img):
    masked, mask = mh.mask_image(small_img, 0.2, generator=0)
    assert torch.equal(mh.missing_mask(masked), mask)


def test_apply_mask_rejects_wrong_mask_shape(small_img):
    with pytest.raises(
        ValueError,
        match=r"apply_mask: 'mask' must be of shape \(48, 64\); got shape \(4, 4\)",
    ):
        mh.apply_mask(small_img, torch.zeros(4, 4, dtype=torch.bool))
    with pytest.raises(TypeError, match=r"'mask' must be a bool tensor"):
        mh.apply_mask(small_img, torch.zeros(48, 64))
