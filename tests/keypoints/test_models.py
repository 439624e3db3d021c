"""The offline pose model: a deterministic build, the right input normalization, checksums."""
import zipfile

import numpy as np
import pytest

from epicap.errors import InputError
from epicap.keypoints import models
from tests.keypoints.pose2sim_demo import demo_video


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return tmp_path_factory.mktemp("task") / "pose.task"


def test_build_is_reproducible_and_pinned(built):
    digest = models.build_pose_task(built)
    assert digest == models.BUILT_TASK_SHA256  # byte-identical to the build tested here
    with zipfile.ZipFile(built) as z:
        infos = z.infolist()
    assert [i.filename for i in infos] == list(models.TASK_MEMBERS)
    assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)  # MediaPipe mmaps them
    assert all(i.header_offset >= 0 for i in infos)
    assert models.check_task_file(built) == built


def test_built_model_declares_the_legacy_graphs_normalization(built):
    if not built.exists():
        models.build_pose_task(built)
    norm = models.read_normalization(built)
    # pose_detection_cpu.pbtxt: input in [-1, 1]; pose_landmark_by_roi_cpu.pbtxt: in [0, 1]
    assert norm == {"pose_detector.tflite": (127.5, 127.5),
                    "pose_landmarks_detector.tflite": (0.0, 255.0)}


def test_runtime_honours_the_normalization(built, tmp_path):
    """The swapped normalization moves landmarks by pixels: the metadata matters and is read.

    Frame 50 of the demo's cam01 (1080x1920); measured 10.4 px median between the two (the notes: ~11 px).
    """
    from epicap.keypoints.mediapipe_detector import DetectorOptions, detect_video

    if not built.exists():
        models.build_pose_task(built)
    swapped = tmp_path / "swapped.task"
    models.build_pose_task(swapped, {"pose_detector.tflite": (0.0, 255.0),
                                     "pose_landmarks_detector.tflite": (127.5, 127.5)})
    assert models.read_normalization(swapped)["pose_landmarks_detector.tflite"] == (127.5, 127.5)
    video, frames, opt = demo_video("cam01"), range(50, 51), DetectorOptions(num_poses=1)
    ours = detect_video(video, built, opt, frames).keypoints[0, :, :2]
    other = detect_video(video, swapped, opt, frames).keypoints[0, :, :2]
    shift = np.linalg.norm(ours - other, axis=-1)
    assert np.nanmedian(shift) > 5.0, np.nanmedian(shift)  # measured 10.4 px


def test_cached_model_is_checked_and_rebuilt_when_corrupt(tmp_path, monkeypatch):
    monkeypatch.setattr(models, "_models_dir", lambda: tmp_path)
    with pytest.raises(InputError, match="epicap models install"):
        models.pose_model_path(auto_install=False)
    path = models.pose_model_path()
    assert (tmp_path / (models.POSE_TASK_NAME + ".sha256")).read_text().split()[0] == \
        models.BUILT_TASK_SHA256
    with open(path, "r+b") as f:  # flip one byte
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0xFF]))
    assert models.sha256_of(path) != models.BUILT_TASK_SHA256
    assert models.sha256_of(models.pose_model_path()) == models.BUILT_TASK_SHA256


def test_unavailable_wheel_says_what_to_do(tmp_path, monkeypatch):
    def offline(key, quiet=True):
        raise InputError(f"could not download {key} from PyPI (network unreachable)")

    monkeypatch.setattr(models, "_models_dir", lambda: tmp_path)
    monkeypatch.setattr(models, "fetch_wheel", offline)
    with pytest.raises(InputError, match="--model FILE.task"):
        models.install_pose_model()
    assert not (tmp_path / models.POSE_TASK_NAME).exists()


def test_check_task_file_rejects_other_files(tmp_path):
    with pytest.raises(InputError, match="no such model"):
        models.check_task_file(tmp_path / "missing.task")
    tflite = tmp_path / "pose.tflite"
    tflite.write_bytes(b"TFL3")
    with pytest.raises(InputError, match="not a .task"):
        models.check_task_file(tflite)
    junk = tmp_path / "junk.task"
    junk.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a MediaPipe .task"):
        models.check_task_file(junk)
    other = tmp_path / "hand.task"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("hand_detector.tflite", b"x")
    with pytest.raises(InputError, match="missing pose_detector.tflite"):
        models.check_task_file(other)
