"""`--people` and everyone kept: import of several people, detections2d.npz, keypoints2d.npz."""
import json

import numpy as np
import pytest

from epicap.cli import main
from epicap.errors import InputError
from epicap.keypoints.everyone import PeopleChoice, parse_people, slots_warning
from epicap.session.detections2d import Detections2D
from epicap.session.keypoints2d import Keypoints2D
from tests.people.scenes import make_people_scene


def test_parse_people():
    assert parse_people(None) == PeopleChoice(None, 2)
    assert parse_people("all") == PeopleChoice(None, 1)
    assert parse_people("3") == PeopleChoice(3, 2) and parse_people("1").main_subject_only
    for bad in ("0", "-2", "two", "1.5", ""):
        with pytest.raises(InputError, match="--people") as e:
            parse_people(bad)
        assert "\n" not in str(e.value)


def test_slots_warning_names_the_camera():
    assert slots_warning(np.array([2, 2, 1, 2]), 2, "cam03", "--max-people").startswith(
        "cam03: more people than the detector's slots")
    assert slots_warning(np.array([1, 2, 1, 1, 1, 1]), 2, "cam03", "--max-people") is None
    assert slots_warning(np.ones(5, int), 1, "cam03", "--max-people") is None


def _write_coco(tmp_path, scene, drop_camera=None):
    """One COCO results file per camera, people in the scene's shuffled slot order."""
    paths = []
    C, T, S = scene.truth.shape
    for c in range(C):
        entries = []
        for t in range(T):
            for s in range(S):
                if scene.truth[c, t, s] < 0 or c == drop_camera:
                    continue
                kp = np.nan_to_num(scene.detections[c, t, s].astype(np.float64), nan=0.0)
                entries.append({"image_id": t, "category_id": 1, "score": 0.9,
                                "keypoints": kp.reshape(-1).round(3).tolist()})
        if not entries:  # a camera that sees nobody still needs its timeline
            entries.append({"image_id": 0, "category_id": 1, "score": 0.1,
                            "keypoints": [0.0] * 51})
        path = tmp_path / f"cam{c + 1:02d}.json"
        path.write_text(json.dumps(entries))
        paths.append(str(path))
    return paths


def _read_people(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def test_import_keeps_everyone_and_matches_them(tmp_path, capsys):
    scene = make_people_scene(3, 4, num_frames=90, bystander=True)
    paths = _write_coco(tmp_path, scene)
    out = tmp_path / "s"
    assert main(["import", "coco", "--out", str(out), *paths, "--image-size", "1920", "1080",
                 "--fps", "30"]) == 0
    text = capsys.readouterr().out
    assert "person" in text and "p3" in text
    det = Detections2D.from_npz(out / "detections2d.npz")
    # every detection kept, in the file's order: the k-th of a frame is the k-th occupied slot
    C, T, S = scene.truth.shape
    file_truth = np.full(det.keypoints.shape[:3], -1)
    for c in range(C):
        for t in range(T):
            who = scene.truth[c, t][scene.truth[c, t] >= 0]
            file_truth[c, t, :len(who)] = who
    assert det.keypoints.shape[2] == 4 and ((file_truth >= 0) == det.occupied).all()
    z = _read_people(out / "keypoints2d.npz")
    assert z["people"].tolist() == ["p0", "p1", "p2", "p3"]
    assert z["keypoints"].shape == (4, 90, 4, 17, 3) and z["keypoints"].dtype == np.float32
    # each person is the same true person in every camera and frame
    for p in range(4):
        found = set()
        for c in range(C):
            for t in range(T):
                pose = z["keypoints"][c, t, p]
                if not pose[:, 2].max() > 0:
                    continue
                same = np.isclose(det.keypoints[c, t, :, :, :2], pose[:, :2],
                                  equal_nan=True).all((-1, -2))
                found.add(int(file_truth[c, t, np.flatnonzero(same)[0]]))
        assert len(found) == 1, (p, found)


def test_people_1_keeps_one_person_the_same_in_every_camera(tmp_path, capsys):
    """Each camera's most prominent person differs (people nearer a camera look larger): the
    main subject is the person matched across cameras, one person in the single-person file."""
    scene = make_people_scene(2, 4, num_frames=60)
    paths = _write_coco(tmp_path, scene)
    out = tmp_path / "s"
    assert main(["import", "coco", "--out", str(out), *paths, "--image-size", "1920", "1080",
                 "--fps", "30", "--people", "1"]) == 0
    assert "1 person, matched across cameras" in capsys.readouterr().out
    kp = Keypoints2D.from_npz(out / "keypoints2d.npz")
    det = Detections2D.from_npz(out / "detections2d.npz")
    assert kp.keypoints.shape == (4, 60, 17, 3) and kp.people is None
    assert det.keypoints.shape == (4, 60, 2, 17, 3)
    who = set()
    for c in range(4):
        for t in range(60):
            pose = kp.keypoints[c, t]
            if not pose[:, 2].max() > 0:
                continue
            same = np.isclose(det.keypoints[c, t, :, :, :2], pose[:, :2],
                              equal_nan=True).all((-1, -2))
            k = int(np.flatnonzero(same)[0])
            occupied = np.flatnonzero(scene.truth[c, t] >= 0)
            who.add(int(scene.truth[c, t, occupied[k]]))
    assert len(who) == 1, who


@pytest.mark.parametrize("value", ["0", "many", "-1"])
def test_bad_people_is_one_line_exit_2(tmp_path, capsys, value):
    scene = make_people_scene(2, 2, num_frames=20)
    paths = _write_coco(tmp_path, scene)
    assert main(["import", "coco", "--out", str(tmp_path / "s"), *paths, "--image-size",
                 "1920", "1080", "--fps", "30", "--people", value]) == 2
    err = capsys.readouterr().err.strip()
    assert "--people" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "s").exists()


def test_a_camera_that_sees_no_one_is_named(tmp_path, capsys):
    scene = make_people_scene(2, 3, num_frames=60)
    paths = _write_coco(tmp_path, scene, drop_camera=2)
    out = tmp_path / "s"
    assert main(["import", "coco", "--out", str(out), *paths, "--image-size", "1920", "1080",
                 "--fps", "30", "--people", "2"]) == 0
    assert "camera cam03: nobody was ever detected" in capsys.readouterr().err
    z = _read_people(out / "keypoints2d.npz")
    assert z["keypoints"].shape == (3, 60, 2, 17, 3) and (z["keypoints"][2, ..., 2] == 0).all()


@pytest.mark.parametrize("value", ["0", "x"])
def test_detect_refuses_a_bad_people_count_before_any_work(tmp_path, capsys, value):
    assert main(["detect", str(tmp_path), "--people", value]) == 2
    err = capsys.readouterr().err.strip()
    assert "--people" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "detections2d.npz").exists()
