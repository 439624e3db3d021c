"""OpenPose JSON import: synthetic folders with known truth, bad files, and Pose2Sim's real demo."""
import json
import zipfile

import numpy as np
import pytest

from epicap.errors import InputError
from epicap.keypoints.layouts import LAYOUTS, convert_people, layout_for_count
from epicap.keypoints.openpose import (camera_name_from_folder, openpose_frame_files,
                                       parse_openpose_json, read_openpose)

DEMO = ("Pose2Sim/S00_Demo_BatchSession/S00_P00_SingleParticipant/"
        "S00_P00_T01_BalancingTrial/pose/")


def body25b_person(x, y, h, conf=0.8):
    """A BODY_25B person (25, 3): coco17 stick figure, neck, head and feet, height h pixels."""
    rel = np.array([[0, -.85], [-.03, -.88], [.03, -.88], [-.07, -.86], [.07, -.86], [-.18, -.65],
                    [.18, -.65], [-.22, -.35], [.22, -.35], [-.24, -.08], [.24, -.08], [-.1, 0],
                    [.1, 0], [-.1, .45], [.1, .45], [-.1, .9], [.1, .9], [0, -.75], [0, -1.0],
                    [-.12, .97], [-.08, .97], [-.1, .92], [.12, .97], [.08, .97], [.1, .92]])
    xy = rel * h + (x, y)
    return np.concatenate([xy, np.full((25, 1), conf)], 1)


def write_frame(folder, name, people):
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"version": 1.3, "people": [
        {"person_id": [-1], "pose_keypoints_2d": p.reshape(-1).tolist(),
         "face_keypoints_2d": []} for p in people]}
    (folder / name).write_text(json.dumps(doc))


def make_session(tmp_path, T=20, cams=("cam01", "cam02")):
    folders = []
    for ci, cam in enumerate(cams):
        folder = tmp_path / f"{cam}_json"
        for t in range(T):
            main = body25b_person(300 + 5 * t + 40 * ci, 500, 400)
            main[1:3] = 0  # eyes undetected: OpenPose writes 0, 0, 0
            by = body25b_person(60, 400, 150, 0.4)
            people = [by, main] if t % 2 else [main, by]
            write_frame(folder, f"{cam}_{t:012d}_keypoints.json", people)
        folders.append(folder)
    return folders


def test_reads_folders_picks_main_subject_and_marks_missing(tmp_path):
    folders = make_session(tmp_path)
    s = []
    kp = read_openpose(folders, image_size=(640, 720), fps=30, summaries=s)
    assert kp.cameras == ["cam01", "cam02"] and kp.joint_set == "body25b"
    assert kp.keypoints.shape == (2, 20, 25, 3) and kp.fps == 30
    truth = body25b_person(300 + 5 * 7 + 40, 500, 400)
    np.testing.assert_allclose(kp.keypoints[1, 7, 5:, :2], truth[5:, :2], atol=1e-3)
    assert np.isnan(kp.keypoints[:, :, 1:3, :2]).all() and (kp.keypoints[:, :, 1:3, 2] == 0).all()
    assert [x.tracks for x in s] == [2, 2] and s[0].coverage == 1.0


def test_missing_frame_files_become_missing_frames(tmp_path):
    folders = make_session(tmp_path, T=10)
    (folders[1] / "cam02_000000000004_keypoints.json").unlink()
    (folders[1] / "cam02_000000000009_keypoints.json").unlink()
    write_frame(folders[1], "cam02_000000000003_keypoints.json", [])  # nobody
    kp = read_openpose(folders, image_size=(640, 720), fps=30)
    assert kp.keypoints.shape[1] == 10
    seen = np.isfinite(kp.keypoints[1, :, 0, 0])
    np.testing.assert_array_equal(np.flatnonzero(~seen), [3, 4, 9])


def test_frame_numbers_and_names():
    assert camera_name_from_folder("/x/cam01_json") == "cam01"
    assert camera_name_from_folder("/x/side") == "side"


def test_frame_files_sorted_by_number_not_name(tmp_path):
    for n in (10, 9, 100):
        write_frame(tmp_path, f"c.{n}.json", [])
    (tmp_path / "c.0001.json.old").write_text("{}")  # not a .json: ignored
    assert [n for n, _ in openpose_frame_files(tmp_path)] == [9, 10, 100]


@pytest.mark.parametrize("text, match", [
    ('{"version": 1.3, "people": [{"pose_keypoints_2d": [1, 2, 0.5, 3', "not valid JSON"),
    ('{"version": 1.3}', 'no "people"'),
    ('{"people": [{"face_keypoints_2d": []}]}', 'no "pose_keypoints_2d"'),
    ('{"people": [{"pose_keypoints_2d": [1, 2, 0.5, 3]}]}', "not a multiple of 3"),
    ('{"people": [{"pose_keypoints_2d": [1, 2, 0.5]}, {"pose_keypoints_2d": [1, 2, 1, 3, 4, 1]}]}',
     "person 1 has 2 keypoints"),
])
def test_bad_json_names_the_file(tmp_path, text, match):
    path = tmp_path / "cam01.0003.json"
    path.write_text(text)
    with pytest.raises(InputError, match=match) as e:
        parse_openpose_json(path)
    assert str(path) in str(e.value)


def test_bad_inputs(tmp_path):
    folders = make_session(tmp_path, T=3)
    with pytest.raises(InputError, match="image size"):
        read_openpose(folders, fps=30)
    with pytest.raises(InputError, match="no such folder"):
        read_openpose([tmp_path / "nope"], image_size=(1, 1), fps=30)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no .json files"):
        read_openpose([tmp_path / "empty"], image_size=(1, 1), fps=30)
    write_frame(tmp_path / "c18", "c.0.json", [np.ones((18, 3))])
    with pytest.raises(InputError, match="mix keypoint layouts"):
        read_openpose([folders[0], tmp_path / "c18"], image_size=(640, 720), fps=30)
    with pytest.raises(InputError, match="not unique"):
        read_openpose(folders, ["a", "a"], image_size=(640, 720), fps=30)


def test_camera_with_nobody_is_kept_with_a_warning(tmp_path, capsys):
    folders = make_session(tmp_path, T=4, cams=("cam01",))
    for t in range(4):
        write_frame(tmp_path / "cam02_json", f"cam02.{t}.json", [])
    kp = read_openpose(folders + [tmp_path / "cam02_json"], image_size=(640, 720), fps=30)
    assert np.isnan(kp.keypoints[1, ..., :2]).all()
    assert "camera cam02: no person found" in capsys.readouterr().err
    with pytest.raises(InputError, match="no person found"):
        read_openpose([tmp_path / "cam02_json"], image_size=(640, 720), fps=30)


def test_layouts_map_openpose_body25_and_coco18_to_coco17():
    raw = np.arange(25 * 3, dtype=float).reshape(1, 25, 3) + 1
    raw[..., 2] = 0.5
    out = convert_people(raw, layout_for_count(25, "body25"))
    assert out.shape == (1, 17, 3)
    # coco17 left_shoulder (5) is BODY_25's 5, right_hip (12) is BODY_25's 9, nose 0, left_eye 16
    np.testing.assert_array_equal(out[0, [0, 1, 5, 12], 0], raw[0, [0, 16, 5, 9], 0])
    raw18 = raw[:, :18]
    out18 = convert_people(raw18, layout_for_count(18))
    np.testing.assert_array_equal(out18[0, [0, 1, 11, 16], 0], raw18[0, [0, 15, 11, 10], 0])
    assert layout_for_count(25).name == "body25b" and layout_for_count(26).joint_set == "body25b"
    for lay in LAYOUTS.values():  # every joint kept exists, each source index used once
        idx = lay.source_index[lay.source_index >= 0]
        assert len(set(idx.tolist())) == idx.size
    with pytest.raises(InputError, match="no known layout"):
        layout_for_count(19)


def test_scores_clipped_and_zero_score_missing():
    raw = np.ones((1, 17, 3)) * 10
    raw[0, :, 2] = 1.4
    raw[0, 3, 2] = 0
    out = convert_people(raw, LAYOUTS["coco17"])
    assert out[0, 0, 2] == 1.0 and np.isnan(out[0, 3, :2]).all() and out[0, 3, 2] == 0


@pytest.fixture(scope="module")
def demo_folders(tmp_path_factory):
    from epicap.assets import fetch_wheel

    try:
        wheel = fetch_wheel("pose2sim-0.8.4")
    except InputError as e:
        pytest.skip(f"Pose2Sim demo not available: {e}")
    root = tmp_path_factory.mktemp("pose2sim")
    with zipfile.ZipFile(wheel) as z:
        for m in z.namelist():
            if m.startswith(DEMO) and "_json/" in m:
                z.extract(m, root)
    return [root / DEMO / f"cam0{i}_json" for i in range(1, 5)]


def test_real_pose2sim_demo(demo_folders):
    """The demo's BODY_25B JSON (bystanders in cam01/cam02): the main subject throughout."""
    s = []
    kp = read_openpose(demo_folders, image_size=(1088, 1920), fps=60, summaries=s)
    assert kp.keypoints.shape == (4, 100, 25, 3) and kp.joint_set == "body25b"
    assert [x.max_people for x in s][:2] >= [2, 2] and all(x.coverage == 1.0 for x in s)
    k = kp.keypoints.astype(np.float64)
    J = kp.skeleton.index
    hips = np.nanmean(k[:, :, [J("left_hip"), J("right_hip")], :2], axis=2)
    jump = np.linalg.norm(np.diff(hips, axis=1), axis=-1)
    assert np.nanmax(jump) < 30  # px per frame at 60 fps; the bystander stands ~400 px away
    seen = np.isfinite(k[..., 0])
    assert seen.mean() > 0.8
    x, y = k[..., 0][seen], k[..., 1][seen]
    assert (x >= 0).all() and (x < 1088).all() and (y >= 0).all() and (y < 1920).all()
    head = k[:, :, J("head"), 1]
    ankles = np.nanmean(k[:, :, [J("left_ankle"), J("right_ankle")], 1], axis=2)
    ok = np.isfinite(head) & np.isfinite(ankles)
    assert ok.mean() > 0.9
    assert (head[ok] < hips[..., 1][ok]).all() and (hips[..., 1][ok] < ankles[ok]).all()
    # the subject is the tall one: her bounding box spans > 500 px in every camera
    span = np.nanmax(k[..., 1], axis=2) - np.nanmin(k[..., 1], axis=2)
    assert np.nanmin(span) > 500
