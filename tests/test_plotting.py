import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import torch  # noqa: E402

import matfill_helpers as mh  # noqa: E402


def test_image_to_rgb_marks_missing_pixels_and_clips(small_img):
    masked, mask = mh.mask_image(small_img, 0.3, generator=0)
    arr = mh.image_to_rgb(masked, missing_color=(0.0, 1.0, 0.0))
    assert arr.shape == (48, 64, 3)
    np.testing.assert_array_equal(
        arr[mask.numpy()], np.tile([0.0, 1.0, 0.0], (int(mask.sum()), 1))
    )
    np.testing.assert_allclose(
        arr[~mask.numpy()], mh.to_hwc(small_img)[~mask.numpy()]
    )


def test_run_grid_and_completion_plots(small_img):
    res = mh.run_grid(small_img, props=[0.1, 0.5], ranks=[2, 8], generator=0)
    assert set(res) == {(0.1, 2), (0.1, 8), (0.5, 2), (0.5, 8)}
    # the same mask for every rank of one proportion
    assert torch.equal(res[(0.5, 2)]["mask"], res[(0.5, 8)]["mask"])
    # on the 10% grid a higher rank fits better (all pixels)
    assert res[(0.1, 8)]["psnr"] > res[(0.1, 2)]["psnr"]
    fig = mh.plot_image_completion(res, props=[0.1, 0.5], ranks=[2, 8])
    assert len(fig.axes) == 4
    assert "rank 8" in fig.axes[1].get_title()
    fig = mh.plot_metric_curves(
        {"als": res, "als again": res},
        props=[0.1, 0.5],
        ranks=[2, 8],
        labels=True,
    )
    assert len(fig.axes[0].lines) == 4
    fig = mh.plot_metric_curves(
        res, props=[0.1, 0.5], ranks=[2, 8], scoring="missing"
    )
    assert list(fig.axes[1].lines[1].get_ydata()) == [
        res[(0.5, 2)]["psnr_missing"],
        res[(0.5, 8)]["psnr_missing"],
    ]
    assert "missing pixels" in fig.axes[1].get_ylabel()
    fig = mh.show_images([small_img] * 3, ["a", "b", "c"], ncols=2)
    assert len(fig.axes) == 3
    fig = mh.plot_loss_curves({"x": [3.0, 2.0, 1.0]})
    assert len(fig.axes[0].lines) == 1


def test_show_images_titles_never_overlap_images_or_each_other(small_img):
    titles = [
        "a title long enough to need two lines",
        "biharmonic (scikit-image)",
        "c",
        "second row, also long",
    ]
    fig = mh.show_images(
        [small_img] * 4, titles, ncols=3, size=2.0, suptitle="grid"
    )
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    axes = fig.axes
    title_boxes = [ax.title.get_window_extent(renderer) for ax in axes]
    image_boxes = [ax.get_window_extent(renderer) for ax in axes]
    for i, tb in enumerate(title_boxes):
        for j, ib in enumerate(image_boxes):
            assert not tb.overlaps(ib), (titles[i], j)
        for j, other in enumerate(title_boxes):
            if i != j:
                assert not tb.overlaps(other), (titles[i], titles[j])
    # long titles are wrapped, not cut
    assert axes[0].get_title().replace("\n", " ") == titles[0]
    assert "\n" in axes[0].get_title()
