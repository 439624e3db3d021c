"""One camera's tracks of a person who leaves and comes back, joined by the colours they wear
(`people.appearance`), on a rendered video: people drawn as shirts and trousers of their own
colours over a textured floor, their joints tracked by `keypoints.tracking.track_people`."""
import numpy as np
import pytest

from epicap.joint_sets import get_joint_set
from epicap.keypoints.tracking import track_people
from epicap.people.appearance import (BINS, AppearanceOptions, clothing_histograms,
                                      histogram_distance, join_returning, split_changed_clothes)

SIZE = (320, 240)
T = 100
# (shirt, trousers) in BGR
CLOTHES = {"A": ((40, 40, 200), (190, 70, 30)), "B": ((40, 170, 40), (25, 25, 25)),
           "C": ((40, 200, 220), (150, 150, 150)), "A2": ((45, 50, 190), (180, 75, 40))}
# (x offset of the body's middle from the left edge, pixels; the body's height)
OFFSETS = {"nose": (0, 0), "left_eye": (3, -3), "right_eye": (-3, -3), "left_ear": (6, -1),
           "right_ear": (-6, -1), "left_shoulder": (14, 18), "right_shoulder": (-14, 18),
           "left_elbow": (18, 40), "right_elbow": (-18, 40), "left_wrist": (20, 60),
           "right_wrist": (-20, 60), "left_hip": (9, 62), "right_hip": (-9, 62),
           "left_knee": (10, 92), "right_knee": (-10, 92), "left_ankle": (10, 120),
           "right_ankle": (-10, 120)}


def _pose(x: float, y: float) -> np.ndarray:
    """(17, 3) COCO joints of a person whose nose is at (x, y)."""
    names = get_joint_set("coco17").joints
    return np.array([[x + OFFSETS[n][0], y + OFFSETS[n][1], 0.9] for n in names])


def _draw(img, pose, clothes):
    import cv2

    names = list(get_joint_set("coco17").joints)
    at = {n: pose[names.index(n), :2] for n in names}
    shirt, trousers = clothes
    torso = np.array([at["left_shoulder"], at["right_shoulder"], at["right_hip"], at["left_hip"]])
    cv2.fillPoly(img, [np.round(torso).astype(np.int32)], shirt)
    for side in ("left", "right"):
        for a, b in (("hip", "knee"), ("knee", "ankle")):
            cv2.line(img, tuple(np.round(at[f"{side}_{a}"]).astype(int)),
                     tuple(np.round(at[f"{side}_{b}"]).astype(int)), trousers, 12)
        cv2.line(img, tuple(np.round(at[f"{side}_shoulder"]).astype(int)),
                 tuple(np.round(at[f"{side}_wrist"]).astype(int)), shirt, 7)
    cv2.circle(img, tuple(np.round(at["nose"]).astype(int)), 9, (120, 160, 200), -1)


def _scene(tmp_path, people):
    """Render `people` {name: (clothes key, {frame: (x, y)})}: (video path, candidates per
    frame (P, 17, 3) in a shuffled order, the name of each candidate per frame)."""
    import cv2

    rng = np.random.default_rng(0)
    floor = rng.integers(90, 140, (SIZE[1], SIZE[0], 1)).astype(np.uint8).repeat(3, -1)
    path = tmp_path / "cam.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, SIZE)
    candidates, who = [], []
    for t in range(T):
        img = floor.copy()
        here = [(name, _pose(*where[t])) for name, (_, where) in people.items() if t in where]
        for name, pose in here:
            _draw(img, pose, CLOTHES[people[name][0]])
        writer.write(img)
        order = rng.permutation(len(here))
        candidates.append(np.stack([here[k][1] for k in order]) if here else None)
        who.append([here[k][0] for k in order])
    writer.release()
    return path, candidates, who


def _walk(frames, x0, x1, y=40.0):
    frames = list(frames)
    xs = np.linspace(x0, x1, len(frames))
    return {t: (float(x), y) for t, x in zip(frames, xs)}


@pytest.fixture
def leaves_and_returns(tmp_path):
    """A walks in view for 25 frames, is gone for 50 and comes back; B stands in view
    throughout; C, in other clothes, passes while A is away (each gap longer than the tracker's
    15 frames, so that the tracker itself does not link them)."""
    return _scene(tmp_path, {
        "A": ("A", {**_walk(range(0, 25), 60, 120), **_walk(range(75, T), 110, 60)}),
        "B": ("B", _walk(range(T), 250, 240)),
        "C": ("C", _walk(range(42, 58), 40, 150)),
    })


def _tracks_by_name(keypoints, candidates, who):
    """For each output track, the set of names whose detections it holds."""
    names = []
    for track in keypoints:
        mine = set()
        for t, frame in enumerate(candidates):
            if frame is None or not (track[t, :, 2] > 0).any():
                continue
            k = int(np.argmin(np.abs(frame[:, :, :2] - track[t, :, :2]).sum((1, 2))))
            mine.add(who[t][k])
        names.append(mine)
    return names


def test_a_person_who_comes_back_is_one_track_again(leaves_and_returns):
    video, candidates, who = leaves_and_returns
    tracks = track_people(candidates)
    before = _tracks_by_name(tracks, candidates, who)
    assert sorted(map(sorted, before)) == [["A"], ["A"], ["B"], ["C"]]  # the tracker splits A
    hist = clothing_histograms(video, tracks, "coco17")
    assert hist.shape == (4, 2, BINS) and np.isfinite(hist).all()
    np.testing.assert_allclose(hist.sum(-1), 1.0)
    a = [k for k, n in enumerate(before) if n == {"A"}]
    others = [k for k in range(4) if k not in a]
    same = histogram_distance(hist[a[0]], hist[a[1]])
    assert same < 0.2 and all(histogram_distance(hist[a[0]], hist[k]) > 0.6 for k in others)
    joined, groups = join_returning(tracks, hist, "coco17")
    after = _tracks_by_name(joined, candidates, who)
    assert sorted(map(sorted, after)) == [["A"], ["B"], ["C"]]
    assert sorted(a) in [sorted(g) for g in groups]
    assert groups[0][0] == 0  # the main subject's track stays first
    assert (joined[..., 2] > 0).any(-1).sum() == (tracks[..., 2] > 0).any(-1).sum()


def test_two_people_alike_in_view_together_are_not_guessed_between(tmp_path):
    """A leaves; two people come back in the same clothes at once: which one is A is not told,
    so neither is joined. When the second one's clothes are a few shades off (A2), the one in
    A's own clothes is."""
    for twin, joins in (("A", False), ("A2", True)):
        video, candidates, who = _scene(tmp_path, {
            "A": ("A", _walk(range(0, 30), 60, 120)),
            "B": (twin, _walk(range(55, T), 220, 170)),
            "C": ("A", _walk(range(55, T), 60, 100)),
        })
        tracks = track_people(candidates)
        hist = clothing_histograms(video, tracks, "coco17")
        joined, groups = join_returning(tracks, hist, "coco17")
        names = sorted(map(sorted, _tracks_by_name(joined, candidates, who)))
        assert names == ([["A", "C"], ["B"]] if joins else [["A"], ["B"], ["C"]]), twin


def test_join_rules_on_given_histograms():
    """Order of joins, the size test and a chain of three pieces of one person."""
    rng = np.random.default_rng(1)

    def hist(seed):
        h = np.random.default_rng(seed).random((2, BINS)) ** 4
        return h / h.sum(-1, keepdims=True)

    def track(frames, scale=1.0):
        kp = np.full((T, 17, 3), np.nan)
        kp[..., 2] = 0
        for t in frames:
            kp[t] = _pose(100.0, 40.0)
            kp[t, :, :2] = 100 + (kp[t, :, :2] - 100) * scale
        return kp

    h_a, h_b = hist(1), hist(2)
    noisy = lambda h: h * rng.uniform(0.9, 1.1, h.shape)  # noqa: E731
    tracks = np.stack([track(range(0, 20)), track(range(30, 50)), track(range(60, 80)),
                       track(range(25, 45), scale=3.0)])
    hists = np.stack([h_a, noisy(h_a), noisy(h_a), h_a])
    hists /= hists.sum(-1, keepdims=True)
    _, groups = join_returning(tracks, hists, "coco17")
    assert [0, 1, 2] in groups and [3] in groups  # 3: three times the size
    hists[1] = h_b
    _, groups = join_returning(tracks, hists, "coco17")
    assert [0, 2] in groups and [1] in groups
    with pytest.raises(Exception, match="appearance options"):
        AppearanceOptions(max_distance=0)


def test_someone_else_stepping_in_where_a_person_left_is_cut_from_their_track(tmp_path):
    """A walks off behind something at frame 40; B, in other clothes, steps out there 4 frames
    later and walks on: within the tracker's gap and gate, one track holds both, and the clothes
    cut it. A walking on after the same gap in the same clothes stays one track, and C, who
    stands in view throughout, is left alone."""
    for other, cut in (("B", True), ("A", False)):
        video, candidates, who = _scene(tmp_path, {
            "A": ("A", _walk(range(0, 40), 40, 120)),
            "B": (other, _walk(range(44, T), 124, 200)),
            "C": ("C", _walk(range(T), 270, 260)),
        })
        tracks = track_people(candidates)
        before = sorted(map(sorted, _tracks_by_name(tracks, candidates, who)))
        assert before == [["A", "B"], ["C"]]  # the tracker linked them
        split, hist = split_changed_clothes(video, tracks, "coco17")
        after = sorted(map(sorted, _tracks_by_name(split, candidates, who)))
        assert after == ([["A"], ["B"], ["C"]] if cut else before), other
        assert hist.shape == (len(split), 2, BINS) and np.isfinite(hist).all()
        present = (split[..., 2] > 0).any(-1)
        assert present.sum() == (tracks[..., 2] > 0).any(-1).sum()  # nothing lost or doubled
        np.testing.assert_array_equal(split[0][present[0]], tracks[0][present[0]])  # track 0 first
        joined, _ = join_returning(split, hist, "coco17")
        assert len(joined) == len(split)  # a cut piece is not joined back
