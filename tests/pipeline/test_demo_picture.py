"""demo.png: the true rig beside the recovered one, over a legend."""
import shutil

import numpy as np

from epicap.cli import main
from epicap.pipeline.demo import _picture
from epicap.viz.scene import FRUSTUM_RGB, LEFT_RGB, RIGHT_RGB


def _has(region, rgb, tol=12):
    return ((np.abs(region.astype(int) - 255 * np.asarray(rgb)).max(-1) <= tol).sum())


def test_demo_picture_shows_truth_and_recovery_with_a_legend(tmp_path):
    import cv2

    s = tmp_path / "s"
    assert main(["synth", "--out", str(s), "--clip", "walk", "--cameras", "4", "--frames", "20",
                 "--quiet"]) == 0
    shutil.copy(s / "truth" / "cameras.toml", s / "cameras.toml")  # stands in for calibrate
    assert main(["triangulate", str(s), "--quiet"]) == 0
    img = cv2.imread(str(_picture(s, tmp_path / "demo.png")))[..., ::-1]
    assert img.shape == (480 + 36, 3 * 640, 3)
    truth, recovered, close = (img[:480, i * 640:(i + 1) * 640] for i in range(3))
    for panel in (truth, recovered):  # both rigs drawn: frusta and a skeleton
        assert _has(panel, FRUSTUM_RGB) > 50 and _has(panel, LEFT_RGB) > 5
    assert _has(close, LEFT_RGB) > 50 and _has(close, RIGHT_RGB) > 50
    legend = img[480:]
    for rgb in (FRUSTUM_RGB, LEFT_RGB, RIGHT_RGB):  # the swatches
        assert _has(legend, rgb, tol=3) > 100
    assert (legend < 60).all(-1).sum() > 200  # and their words
