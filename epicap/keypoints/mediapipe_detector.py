"""2D keypoints (`mediapipe33`) from videos with MediaPipe's PoseLandmarker, one subject followed.

MediaPipe Pose (BlazePose: Bazarevsky et al., "BlazePose: On-device Real-time Body Pose
Tracking", CVPR Workshops 2020) finds people with a detector, then regresses 33 landmarks in a
region of interest that, in VIDEO mode, is carried from frame to frame (tracking), so the
detector runs only when a person is lost. Each landmark has a normalized x, y, a `visibility`
(likelihood of not being occluded) and a `presence` (likelihood of lying in the frame); the
confidence written here is their product.

MediaPipe's person detector often reports one of two people close together, so with
`num_poses` > 1 the people found are painted over and further landmarkers look again
(`epicap.keypoints.redetect`). Every person found is kept per frame and the main subject is
chosen and followed over time by `epicap.keypoints.tracking.track_main_subject` (the Pose2Sim
demo has bystanders). Frames are decoded with OpenCV.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from epicap.errors import InputError
from epicap.joint_sets import get_joint_set

if TYPE_CHECKING:
    from epicap.session import Keypoints2D
    from epicap.session.detections2d import Detections2D

__all__ = ["DetectorOptions", "CameraDetection", "SessionDetection", "detect_video", "detect_session",
           "open_video", "landmarks_to_array"]

NUM_LANDMARKS = len(get_joint_set("mediapipe33"))


@dataclass(frozen=True)
class DetectorOptions:
    """Knobs of the MediaPipe detector.

    num_poses: people detected per frame; the main subject is chosen among them (default 2).
    min_detection_confidence: the person detector's threshold (default 0.5).
    min_presence_confidence: below it the landmarker drops a tracked pose and detects again
        (default 0.5).
    min_tracking_confidence: MediaPipe's tracking threshold (default 0.5).
    redetect_passes: after the first landmarker, at most this many more per frame, each on the
        frame with the people found so far painted over and each tracking its own person (VIDEO
        mode), while they find someone and fewer than `num_poses` people are found
        (`epicap.keypoints.redetect`; default 2; 0: one landmarker, as before; no effect with
        `num_poses` 1). Each pass that runs costs about one more landmarker call per frame.
    max_ghost_fraction: a pose from a re-detection pass with more than this fraction of its
        joints inside the painted area is a ghost of someone already found, and dropped
        (default 0.5).
    """

    num_poses: int = 2
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    redetect_passes: int = 2
    max_ghost_fraction: float = 0.5

    def __post_init__(self):
        if self.num_poses < 1:
            raise InputError(f"num_poses must be at least 1, got {self.num_poses}")
        if self.redetect_passes < 0:
            raise InputError(f"redetect_passes must be 0 or more, got {self.redetect_passes}")
        for name in ("min_detection_confidence", "min_presence_confidence",
                     "min_tracking_confidence", "max_ghost_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InputError(f"{name} must lie in [0, 1], got {getattr(self, name)}")


@dataclass
class CameraDetection:
    """The main subject of one camera's video.

    keypoints: (T, 33, 3) float32 x, y pixels, confidence; (NaN, NaN, 0) where not found.
    frames: (T,) int, the video frame index of each row.
    image_size: (width, height) pixels. fps: the video's frame rate.
    frames_expected: frames asked for; `len(frames)` is fewer when the video ended early.
    num_people: distinct people (tracks) seen; coverage: fraction of frames with the subject.
    detections: (T, S, 33, 3) float32 every person found per frame (S = num_poses slots, in
        MediaPipe's order; empty slots (NaN, NaN, 0)), for `detections2d.npz`.
    """

    keypoints: np.ndarray
    frames: np.ndarray
    image_size: tuple[int, int]
    fps: float
    frames_expected: int
    num_people: int
    coverage: float
    detections: np.ndarray | None = None

    @property
    def truncated(self) -> bool:
        return len(self.frames) < self.frames_expected


def open_video(path: str | os.PathLike):
    """An opened `cv2.VideoCapture` whose first frame decodes; InputError naming the file if not.

    Returns (capture, frame_count, fps, (width, height)); the capture is rewound to frame 0.
    """
    import cv2

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such video")
    cap = cv2.VideoCapture(str(path))
    ok, frame = cap.read() if cap.isOpened() else (False, None)
    if not ok or frame is None:
        cap.release()
        raise InputError(f"{path}: not a readable video (OpenCV cannot decode its first frame)")
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    fps = float(cap.get(cv2.CAP_PROP_FPS))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
    return cap, max(count, 0), fps, (int(frame.shape[1]), int(frame.shape[0]))


def landmarks_to_array(poses, width: int, height: int) -> np.ndarray:
    """(P, 33, 3) x, y pixels and confidence = visibility x presence from MediaPipe landmarks.

    poses: `PoseLandmarkerResult.pose_landmarks`, P lists of 33 `NormalizedLandmark`.
    width, height: the image size in pixels (MediaPipe's x, y are normalized to [0, 1]; pixel
        centres follow OpenCV, so x_px = x * width).
    """
    out = np.zeros((len(poses), NUM_LANDMARKS, 3), dtype=np.float64)
    for p, pose in enumerate(poses):
        for j, lm in enumerate(pose[:NUM_LANDMARKS]):
            vis = 1.0 if lm.visibility is None else float(lm.visibility)
            pres = 1.0 if lm.presence is None else float(lm.presence)
            out[p, j] = (lm.x * width, lm.y * height, np.clip(vis * pres, 0.0, 1.0))
    out[out[..., 2] <= 0] = (np.nan, np.nan, 0.0)
    return out


def detect_video(video: str | os.PathLike, model: str | os.PathLike,
                 options: DetectorOptions | None = None, frames: range | None = None,
                 progress_desc: str | None = None) -> CameraDetection:
    """Run the PoseLandmarker in VIDEO mode over `video` (plus re-detection passes on the
    frame with the people found painted over, `DetectorOptions.redetect_passes`), keep everyone
    found and follow the main subject.

    video: a video file OpenCV can read.
    model: a pose landmarker `.task` bundle (see `epicap.keypoints.models`).
    options: DetectorOptions (defaults when None).
    frames: the frame indices to process (consecutive, step 1), e.g. range(40, 53); all when None.
    progress_desc: label of the progress bar (shown on a terminal only).
    Raises InputError for an unreadable video. A video that ends before the frames asked for is
    not an error: `CameraDetection.truncated` says so and the missing rows are absent.
    """
    import cv2
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from epicap.console import native_output_silenced, progress
    from epicap.keypoints.tracking import track_main_subject

    opt = options or DetectorOptions()
    cap, count, fps, (width, height) = open_video(video)
    if not (np.isfinite(fps) and fps > 0):
        fps = 30.0
    wanted = frames if frames is not None else range(count)
    if wanted.step != 1 or wanted.start < 0:
        cap.release()
        raise InputError(f"frames must be consecutive and non-negative, got {wanted}")
    if wanted.start:
        cap.set(cv2.CAP_PROP_POS_FRAMES, wanted.start)
    landmarker_options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model)),
        running_mode=vision.RunningMode.VIDEO, num_poses=opt.num_poses,
        min_pose_detection_confidence=opt.min_detection_confidence,
        min_pose_presence_confidence=opt.min_presence_confidence,
        min_tracking_confidence=opt.min_tracking_confidence)
    again = []
    candidates, read = [], []
    try:
        # TFLite logs set-up notices straight to file descriptor 2 at creation and first frame
        with native_output_silenced(stdout=False):
            landmarker = vision.PoseLandmarker.create_from_options(landmarker_options)
            if opt.num_poses > 1:
                again = [vision.PoseLandmarker.create_from_options(landmarker_options)
                         for _ in range(opt.redetect_passes)]
    except (RuntimeError, ValueError) as e:
        cap.release()
        raise InputError(f"{model}: MediaPipe cannot load this model ({e})") from None
    try:
        for index in progress(wanted, total=len(wanted), desc=progress_desc or Path(video).stem,
                              unit="frame"):
            ok, bgr = cap.read()
            if not ok:
                break
            rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            timestamp_ms = int(round(index * 1000.0 / fps))
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
            if read:
                result = landmarker.detect_for_video(image, timestamp_ms)
            else:
                with native_output_silenced(stdout=False):
                    result = landmarker.detect_for_video(image, timestamp_ms)
            found = landmarks_to_array(result.pose_landmarks, width, height)
            if again:
                found = _redetect(again, rgb, found, opt, timestamp_ms)
            candidates.append(found)
            read.append(index)
    finally:
        landmarker.close()
        for other in again:
            other.close()
        cap.release()
    from epicap.session.detections2d import stack_detections

    track = track_main_subject(candidates)
    raw = stack_detections([candidates], NUM_LANDMARKS, max_slots=opt.num_poses)[0]
    raw = raw.reshape(len(read), opt.num_poses, NUM_LANDMARKS, 3)
    keypoints = track.keypoints
    if keypoints.shape[1] != NUM_LANDMARKS:  # nobody found at all
        keypoints = np.full((len(read), NUM_LANDMARKS, 3), np.nan)
        keypoints[..., 2] = 0.0
    return CameraDetection(keypoints.astype(np.float32), np.asarray(read, dtype=np.int64),
                           (width, height), fps, len(wanted), track.num_tracks, track.coverage,
                           raw)


def _silhouette() -> tuple[np.ndarray, list[np.ndarray]]:
    """MediaPipe's bones (B, 2) and the joint groups filled when a person is painted over:
    the torso (shoulders, hips) and the head (face landmarks)."""
    skeleton = get_joint_set("mediapipe33")
    names = list(skeleton.joints)
    bones = np.array([(names.index(a), names.index(b)) for a, b in skeleton.bones])
    torso = np.array([names.index(n) for n in ("left_shoulder", "right_shoulder", "right_hip",
                                               "left_hip")])
    head = np.arange(names.index("left_shoulder"))  # nose to mouth: the 11 face landmarks
    return bones, [torso, head]


def _redetect(landmarkers: list, rgb: np.ndarray, found: np.ndarray, opt: DetectorOptions,
              timestamp_ms: int) -> np.ndarray:
    """(P', 33, 3) `found` plus the people found on `rgb` (H, W, 3) with everyone found so far
    painted over, pass after pass, one VIDEO-mode landmarker per pass so that each follows its
    own person over time (`epicap.keypoints.redetect`)."""
    import mediapipe as mp

    from epicap.keypoints.redetect import inside_fraction, paint_over

    if not len(found) or len(found) >= opt.num_poses:
        return found
    height, width = rgb.shape[:2]
    image = rgb.copy()
    bones, parts = _silhouette()
    mask = paint_over(image, found, bones, parts)
    for landmarker in landmarkers:
        result = landmarker.detect_for_video(
            mp.Image(image_format=mp.ImageFormat.SRGB, data=image), timestamp_ms)
        new = landmarks_to_array(result.pose_landmarks, width, height)
        new = new[inside_fraction(new, mask) <= opt.max_ghost_fraction]
        if not len(new):
            break
        found = np.concatenate([found, new[:opt.num_poses - len(found)]])
        if len(found) >= opt.num_poses:
            break
        mask |= paint_over(image, new, bones, parts)
    return found


@dataclass
class SessionDetection:
    """What `detect_session` found: the keypoints, and per camera what happened."""

    keypoints: Keypoints2D  # (C, T, 33, 3) of the cameras kept, `mediapipe33`
    cameras: dict[str, CameraDetection]
    dropped: list[str]  # cameras in which nobody was ever found
    detections: "Detections2D | None" = None  # every person found, cameras kept


def detect_session(session: str | os.PathLike, model: str | os.PathLike,
                   options: DetectorOptions | None = None,
                   frames: range | None = None) -> SessionDetection:
    """MediaPipe keypoints of the main subject in every camera of a session.

    session: a session folder with a `session.toml` naming each camera's video.
    model: a pose landmarker `.task` bundle.
    frames: frame indices to process in every video (all when None).
    Every video is opened before any work, so an unreadable one fails fast (InputError naming it).
    A camera where nobody is ever found is left out of the result and listed in `dropped`; when
    that is every camera, InputError. Rows past the end of a short video are missing (NaN, 0).
    """
    from epicap.console import warn
    from epicap.keypoints.everyone import slots_warning
    from epicap.session import Keypoints2D
    from epicap.session.detections2d import Detections2D
    from epicap.session.manifest import SessionManifest

    manifest = SessionManifest.load(session)
    videos = {}
    for name in manifest.names:
        path = manifest.video_path(session, name)
        if path is None:
            raise InputError(f"{session}: camera {name} has no video to detect on")
        cap = open_video(path)[0]
        cap.release()
        videos[name] = path
    results = {name: detect_video(path, model, options, frames, progress_desc=name)
               for name, path in videos.items()}
    dropped = [n for n, r in results.items() if r.coverage == 0]
    kept = [n for n in results if n not in dropped]
    for name in dropped:
        warn(f"{name}: no person found in {len(results[name].frames)} frames of "
             f"{videos[name]}; this camera is left out")
    if not kept:
        raise InputError(f"{session}: no person found in any camera")
    for name in kept:
        r = results[name]
        if r.truncated:
            warn(f"{name}: {videos[name]} ends after {len(r.frames)} of {r.frames_expected} "
                 "frames; the rest is missing")
    T = max(results[n].frames_expected for n in kept)
    start = frames.start if frames is not None else 0
    kp = np.full((len(kept), T, NUM_LANDMARKS, 3), np.nan, dtype=np.float32)
    kp[..., 2] = 0.0
    for c, name in enumerate(kept):
        r = results[name]
        kp[c, r.frames - start] = r.keypoints
    fps = [manifest.camera(n).fps for n in kept]
    if max(fps) - min(fps) > 1e-3 * max(fps):
        warn(f"cameras have different frame rates {fps}; the timeline uses {fps[0]} "
             "(resample the videos to one rate for sync)")
    keypoints = Keypoints2D(kp, kept, "mediapipe33", [results[n].image_size for n in kept],
                            fps[0])
    S = (options or DetectorOptions()).num_poses
    raw = np.full((len(kept), T, S, NUM_LANDMARKS, 3), np.nan, dtype=np.float32)
    raw[..., 2] = 0.0
    for c, name in enumerate(kept):
        r = results[name]
        raw[c, r.frames - start] = r.detections
        note = slots_warning((r.detections[..., 2] > 0).any(-1).sum(-1), S, name,
                             "--max-people")
        if note:
            warn(note)
    detections = Detections2D(raw, kept, "mediapipe33", keypoints.image_size, fps[0])
    return SessionDetection(keypoints, results, dropped, detections)
