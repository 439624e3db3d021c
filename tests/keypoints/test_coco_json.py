"""COCO-style results and MMPose predictions: known truth, layouts, bad files."""
import json

import numpy as np
import pytest

from epicap.errors import InputError
from epicap.keypoints.coco_json import read_coco_file, read_coco_json
from tests.keypoints.test_tracking import person


def coco_results(T=12, image_id=lambda t: t + 1):
    out = []
    for t in range(T):
        main = person(300 + 4 * t, 400, 300, 0.9)
        by = person(60, 300, 120, 0.5)
        for p in ([by, main] if t % 2 else [main, by]):
            out.append({"image_id": image_id(t), "category_id": 1,
                        "keypoints": p.reshape(-1).tolist(), "score": 0.9})
    return out


def test_coco_results_list(tmp_path):
    (tmp_path / "c1.json").write_text(json.dumps(coco_results()))
    (tmp_path / "c2.json").write_text(json.dumps(coco_results(8, lambda t: f"frame_{t + 1:04d}")))
    s = []
    kp = read_coco_json([tmp_path / "c1.json", tmp_path / "c2.json"], image_size=(640, 720),
                        fps=25, summaries=s)
    assert kp.cameras == ["c1", "c2"] and kp.joint_set == "coco17"
    assert kp.keypoints.shape == (2, 12, 17, 3)
    np.testing.assert_allclose(kp.keypoints[0, 5, :, :2], person(320, 400, 300)[:, :2], atol=1e-3)
    assert np.isnan(kp.keypoints[1, 8:, :, 0]).all() and s[0].tracks == 2


def test_mmpose_predictions_video_and_image(tmp_path):
    def inst(p):
        return {"keypoints": p[:, :2].tolist(), "keypoint_scores": p[:, 2].tolist(),
                "bbox": [[0, 0, 1, 1]], "bbox_score": 0.9}

    video = {"meta_info": {"dataset_name": "coco"}, "instance_info": [
        {"frame_id": t + 1, "instances": [inst(person(200 + t, 300, 250))]} for t in range(6)]}
    (tmp_path / "v.json").write_text(json.dumps(video))
    frames = read_coco_file(tmp_path / "v.json")
    assert sorted(frames) == list(range(1, 7)) and frames[3].shape == (1, 17, 3)
    image = {"meta_info": {}, "instance_info": [inst(person(200, 300, 250))]}
    (tmp_path / "i.json").write_text(json.dumps(image))
    assert read_coco_file(tmp_path / "i.json")[0].shape == (1, 17, 3)
    folder = tmp_path / "per_frame"
    folder.mkdir()
    for t in range(3):
        (folder / f"img_{t:05d}.json").write_text(json.dumps([inst(person(200, 300, 250))]))
    assert sorted(read_coco_file(folder)) == [0, 1, 2]
    (folder / "summary.json").write_text("[]")  # no frame number among numbered frames
    with pytest.raises(InputError, match="summary.json: no frame number"):
        read_coco_file(folder)
    plain = tmp_path / "unnumbered"
    plain.mkdir()
    for name in ("a", "b"):  # no numbers at all: frames in name order
        (plain / f"{name}.json").write_text(json.dumps([inst(person(200, 300, 250))]))
    assert sorted(read_coco_file(plain)) == [0, 1]


def test_halpe26_maps_to_body25b(tmp_path):
    p = np.concatenate([person(300, 400, 300), np.tile([[300.0, 120, 0.8]], (9, 1))])
    p[17] = (300, 130, 0.7)  # head
    p[18] = (300, 200, 0.7)  # neck
    p[24] = (250, 690, 0.6)  # left heel
    (tmp_path / "h.json").write_text(json.dumps(
        [{"image_id": 0, "category_id": 1, "keypoints": p.reshape(-1).tolist()}]))
    kp = read_coco_json([tmp_path / "h.json"], image_size=(640, 720), fps=30)
    sk = kp.skeleton
    assert kp.joint_set == "body25b"
    np.testing.assert_allclose(kp.keypoints[0, 0, sk.index("head")], (300, 130, 0.7), atol=1e-4)
    np.testing.assert_allclose(kp.keypoints[0, 0, sk.index("neck"), :2], (300, 200))
    np.testing.assert_allclose(kp.keypoints[0, 0, sk.index("left_heel"), :2], (250, 690))


@pytest.mark.parametrize("doc, match", [
    ([{"keypoints": [1, 2, 3]}], 'no "image_id"'),
    ([{"image_id": 1, "keypoints": [1, 2, 3, 4]}], "multiple of 3"),
    ([{"image_id": 1}], 'no "keypoints"'),
    ({"instance_info": [{"frame_id": 0, "instances": [{"keypoints": [[1, 2]]}]}]},
     'no "keypoint_scores"'),
    ({"instance_info": [{"frame_id": 0, "instances": [
        {"keypoints": [[1, 2], [3, 4]], "keypoint_scores": [1]}]}]}, "1 keypoint_scores for 2"),
    ({"people": []}, "neither a COCO results list nor MMPose"),
])
def test_bad_files_name_the_file(tmp_path, doc, match):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=match) as e:
        read_coco_file(path)
    assert "bad.json" in str(e.value)


def test_truncated_and_missing_size(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(coco_results())[:-40])
    with pytest.raises(InputError, match="not valid JSON"):
        read_coco_file(path)
    (tmp_path / "ok.json").write_text(json.dumps(coco_results()))
    with pytest.raises(InputError, match="image size"):
        read_coco_json([tmp_path / "ok.json"], fps=30)
