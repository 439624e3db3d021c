"""Detection speed: MediaPipe PoseLandmarker in VIDEO mode on the Pose2Sim demo's 4 videos.

Run: python benchmarks/detection.py   (target: >= 20 frames/s per camera on 2 cores)
"""
import sys
import time
from pathlib import Path

# the benchmark reuses the test suite's scenes and real-data helpers: run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from epicap.console import format_table
from epicap.keypoints.mediapipe_detector import DetectorOptions, detect_video
from epicap.keypoints.models import pose_model_path
from tests.keypoints.pose2sim_demo import CAMERAS, demo_video


def main() -> None:
    model = pose_model_path()
    rows = []
    for num_poses in (1, 2):
        for cam in CAMERAS:
            start = time.perf_counter()
            result = detect_video(demo_video(cam), model, DetectorOptions(num_poses=num_poses))
            seconds = time.perf_counter() - start
            rows.append((cam, num_poses, len(result.frames), f"{100 * result.coverage:.0f}%",
                         round(len(result.frames) / seconds, 1)))
    print(format_table(rows, ["camera", "num_poses", "frames", "subject found",
                              "frames/s (incl. model load)"]))


if __name__ == "__main__":
    main()
