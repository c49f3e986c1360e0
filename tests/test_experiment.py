"""run_grid: the masks belong to the data, not to the method."""

import torch

import matfill_helpers as mh

PROPS = [0.1, 0.4, 0.8]


def _masks(grid):
    return {p: grid[(p, r)]["mask"] for (p, r) in grid}


def test_run_grid_gives_every_method_the_same_masks():
    img = mh.load_image("china", size=24)
    runs = [
        mh.run_grid(
            img, props=PROPS, ranks=[2, 4], method="gd", generator=3, steps=5
        ),
        mh.run_grid(img, props=PROPS, ranks=[2, 4], method="als", generator=3),
        mh.run_grid(
            img,
            props=PROPS,
            ranks=[2],
            method="rff",
            generator=3,
            num_features=20,
        ),
        mh.run_grid(
            img,
            props=PROPS,
            ranks=[3],
            method="gd",
            generator=3,
            **mh.GD_TUNED,
        ),
    ]
    first = _masks(runs[0])
    for grid in runs[1:]:
        for p, mask in _masks(grid).items():
            assert torch.equal(mask, first[p]), p


def test_run_grid_masks_are_nested_and_those_of_mask_image():
    img = mh.load_image("flower", size=24)
    grid = mh.run_grid(
        img, props=PROPS, ranks=[2], method="gd", generator=7, steps=3
    )
    masks = _masks(grid)
    for small, large in zip(PROPS, PROPS[1:]):
        assert not bool((masks[small] & ~masks[large]).any())
    for p in PROPS:
        assert torch.equal(masks[p], mh.mask_image(img, p, generator=7)[1])
        # every rank of a proportion is scored on the same pixels
        assert torch.equal(grid[(p, 2)]["mask"], masks[p])


def test_run_grid_masks_do_not_depend_on_the_order_of_the_proportions():
    img = mh.load_image("china", size=16)
    a = _masks(mh.run_grid(img, props=[0.2, 0.6], ranks=[2], generator=1))
    b = _masks(mh.run_grid(img, props=[0.6, 0.2], ranks=[2], generator=1))
    assert all(torch.equal(a[p], b[p]) for p in a)


def test_an_explorer_setting_masks_like_run_grid_whatever_the_method():
    img = mh.load_image("china", size=20)
    grid = mh.run_grid(img, props=[0.3], ranks=[2], method="als", generator=4)
    for method, options in [("als", {}), ("gd", {"steps": 3}), ("rff", {})]:
        out = mh.explore_setting(
            img, prop=0.3, rank=2, method=method, seed=4, **options
        )
        assert torch.equal(out["mask"], grid[(0.3, 2)]["mask"]), method


def test_benchmark_cases_mask_like_run_grid():
    from matfill_helpers.evaluation import benchmark as bm

    img = mh.load_image("flower", size=20)
    grid = mh.run_grid(img, props=[0.1, 0.5], ranks=[2], generator=2)
    cases = bm.make_cases({"flower": img}, [0.1, 0.5], seed=2)
    for _, p, _, _, mask in cases:
        assert torch.equal(mask, grid[(p, 2)]["mask"])
