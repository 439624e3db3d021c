"""Painting over the people found; finding the one MediaPipe missed on real two-person frames."""
import numpy as np
import pytest

from epicap.keypoints.redetect import GREY, inside_fraction, paint_over

# a stick figure: 0 head, 1 neck, 2 pelvis, 3 left hand, 4 right hand, 5 left foot, 6 right foot
FIGURE = np.array([[100.0, 20.0, 0.9], [100.0, 50.0, 0.9], [100.0, 120.0, 0.9],
                   [60.0, 90.0, 0.9], [140.0, 90.0, 0.9], [80.0, 200.0, 0.9],
                   [120.0, 200.0, 0.9]])
BONES = np.array([[0, 1], [1, 2], [1, 3], [1, 4], [2, 5], [2, 6]])


def _distance_to_bones(xy: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """(N,) distance of points xy (N, 2) to the nearest bone of `pose` (reference, no OpenCV)."""
    best = np.full(len(xy), np.inf)
    for a, b in BONES:
        p, q = pose[a, :2], pose[b, :2]
        u = np.clip(((xy - p) @ (q - p)) / ((q - p) @ (q - p)), 0, 1)
        best = np.minimum(best, np.linalg.norm(xy - (p + u[:, None] * (q - p)), axis=1))
    return best


def test_paint_over_covers_the_bones_and_leaves_the_rest():
    image = np.full((240, 300, 3), 10, dtype=np.uint8)
    mask = paint_over(image, FIGURE[None], BONES, [], width=0.1)
    yy, xx = np.mgrid[:240, :300]
    d = _distance_to_bones(np.stack([xx.ravel(), yy.ravel()], 1).astype(float), FIGURE)
    d = d.reshape(240, 300)
    stroke = 0.1 * 180  # the figure's size: 180 px tall
    assert mask[d < stroke / 2 - 1.5].all()          # every pixel of the strokes
    assert not mask[d > stroke / 2 + 1.5].any()      # nothing beyond them
    assert (image[mask] == GREY).all() and (image[~mask] == 10).all()
    # between the outstretched arm and the legs (a second person's place) stays as it was
    assert not mask[150, 40] and not mask[150, 160]


def test_paint_over_fills_parts_and_ignores_unseen_joints():
    pose = FIGURE.copy()
    pose[4] = (np.nan, np.nan, 0.0)  # right hand not found: its bone is not painted
    image = np.zeros((240, 300, 3), dtype=np.uint8)
    mask = paint_over(image, pose[None], BONES, [np.array([1, 3, 5, 6])], width=0.05)
    assert not mask[90, 140] and not mask[70, 125]
    assert mask[130, 85]  # inside the hull of neck, left hand and feet: filled
    nobody = paint_over(image, np.zeros((0, 7, 3)), BONES, [])
    assert not nobody.any()


def test_inside_fraction_counts_seen_joints_in_the_mask():
    mask = np.zeros((100, 100), dtype=bool)
    mask[:, :50] = True
    poses = np.array([[[10, 10, 0.9], [60, 10, 0.9], [20, 90, 0.9], [70, 70, 0.01]],
                      [[80, 10, 0.9], [90, 10, 0.9], [-5, 10, 0.9], [np.nan, np.nan, 0.0]]])
    # pose 0: 2 of its 3 seen joints inside (the 4th is below the confidence floor);
    # pose 1: none inside, one outside the image counts as outside
    assert np.allclose(inside_fraction(poses, mask), [2 / 3, 0.0])
    assert inside_fraction(np.full((1, 4, 3), np.nan), mask).tolist() == [0.0]


@pytest.fixture(scope="module")
def two_person_cam03():
    """MediaPipe on frames 0-19 of the two-person trial's cam03 (both participants in view in
    every frame, one at the back), with and without re-detection."""
    from epicap.keypoints.mediapipe_detector import DetectorOptions, detect_video
    from epicap.keypoints.models import pose_model_path
    from tests.keypoints.pose2sim_demo import demo_video

    video, model = demo_video("cam03", trial="multi"), pose_model_path()
    return {passes: detect_video(video, model, DetectorOptions(num_poses=4,
                                                               redetect_passes=passes),
                                 range(0, 20))
            for passes in (0, 2)}


def test_redetection_finds_the_second_participant(two_person_cam03):
    found = {k: (r.detections[..., 2] > 0).any(-1).sum(-1) for k, r in two_person_cam03.items()}
    # measured: tracking alone finds both in 0 of 20 frames, re-detection in 20 of 20
    assert (found[2] >= 2).mean() >= 0.9, found[2]
    assert (found[0] >= 2).mean() < 0.5, found[0]
    # the people found first are untouched: the main subject is the same
    a, b = two_person_cam03[0].keypoints, two_person_cam03[2].keypoints
    both = (a[..., 2] > 0) & (b[..., 2] > 0)
    assert both.mean() > 0.8 and np.allclose(a[both], b[both])
    # the two people of a frame are different people: their hips lie apart
    det = two_person_cam03[2].detections
    hips = np.nanmean(det[:, :2, 23:25, :2], axis=2)  # (T, 2, 2) the first two slots' pelvis
    apart = np.linalg.norm(hips[:, 0] - hips[:, 1], axis=-1)
    assert np.nanmin(apart) > 100, apart  # measured 330-386 px
