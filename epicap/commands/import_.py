"""2D keypoints from other tools (OpenPose JSON, COCO-style results, another session's npz).

Writes SESSION/detections2d.npz (every person in every file, before matching),
SESSION/keypoints2d.npz (the people matched across cameras, see --people) and, when SESSION has
none, a session.toml.

--people: by default everyone matched in at least two cameras (person 0 the main subject, seen
longest by most cameras); `all` keeps people seen by one camera too; N at most N people; 1 only
the main subject, the same person in every camera (each camera's own, chosen and followed through
the frames, where nobody is matched across cameras).
Cameras started apart (by hand, up to 2 s) are put on one timeline first: every camera pair's
offset is searched without knowing who is who, by how many joints of everyone fit one epipolar
geometry, and the people are matched there (a warning gives the offsets; `epicap sync` refines
them).

Formats:
  openpose  one folder of per-frame JSON files per camera (OpenPose --write_json, Pose2Sim).
            25 keypoints are read as BODY_25B (-> body25b) unless --body25 body25 (-> coco17);
            18 (OpenPose COCO) -> coco17.
  coco      one COCO-style results file (a list of {"image_id", "keypoints", "score"}), MMPose
            predictions file or folder of per-frame files per camera. 17 -> coco17,
            26 (Halpe) and 133 (COCO-WholeBody) -> body25b.
  npz       another session's keypoints2d.npz (optionally only some cameras, with --names).

Image size and fps are not in OpenPose or COCO files. They come from, in this order:
--image-size / --fps, the videos given with --video (one per camera), or SESSION/session.toml
when SESSION was made by `epicap ingest` or `epicap record` (cameras matched by name).

Example:
  epicap import openpose --out trial1 pose/cam01_json pose/cam02_json pose/cam03_json \\
      pose/cam04_json --image-size 1088 1920 --fps 60
  epicap import coco --out trial1 rtm_cam1.json rtm_cam2.json --video cam1.mp4 cam2.mp4
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from epicap.errors import InputError

FORMATS = ("openpose", "coco", "npz")


def add_arguments(parser) -> None:
    parser.add_argument("format", choices=FORMATS, help="what the inputs are")
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="one folder or file per camera (npz: one keypoints2d.npz)")
    parser.add_argument("--out", required=True, metavar="SESSION", help="the session folder")
    parser.add_argument("--names", nargs="+", metavar="NAME",
                        help="camera names, one per input (default: from the folder or file "
                             "names, e.g. cam01_json -> cam01); npz: the cameras to keep")
    parser.add_argument("--image-size", nargs=2, type=int, metavar=("W", "H"),
                        help="image width and height in pixels (all cameras)")
    parser.add_argument("--fps", type=float, help="frames per second of the recordings")
    parser.add_argument("--video", nargs="+", metavar="VIDEO",
                        help="the cameras' videos, one per input, to read image size and fps from")
    parser.add_argument("--layout", default="auto",
                        help="the keypoint layout (default: auto, from the keypoint count): "
                             "body25b, body25, coco18, coco17, halpe26, wholebody133")
    parser.add_argument("--body25", choices=("body25b", "body25"), default="body25b",
                        help="with --layout auto, what 25 keypoints per person are "
                             "(default body25b, as in Pose2Sim's demo)")
    parser.add_argument("--people", metavar="N|all",
                        help="who to keep: N people, or all (also those seen by one camera); "
                             "default everyone seen in at least two cameras; 1: the main "
                             "subject only")
    parser.add_argument("--force", action="store_true",
                        help="overwrite SESSION/keypoints2d.npz if it exists")


def run(args) -> int:
    from epicap.console import format_table
    from epicap.session import KEYPOINTS_FILE
    from epicap.session.io import refuse_overwrite

    out = Path(args.out)
    target = out / KEYPOINTS_FILE
    refuse_overwrite(target, args.force, "keypoints file")
    if args.format == "npz":
        kp = _import_npz(args)
        _save(kp, target, out, None)
        print(f"{target}: {len(kp.cameras)} cameras, {kp.num_frames} frames, {kp.joint_set}")
        return 0

    from epicap.keypoints.everyone import parse_people

    choice = parse_people(getattr(args, "people", None))
    names = args.names
    if names is not None and len(names) != len(args.inputs):
        raise InputError(f"--names: {len(names)} names for {len(args.inputs)} inputs")
    if names is None:
        names = _default_names(args.format, args.inputs)
    size, fps, videos = _size_and_fps(args, out, names)
    summaries: list = []
    raw: list = []
    common = dict(camera_names=names, image_size=size, fps=fps, layout=args.layout,
                  body25=args.body25, summaries=summaries, raw=raw)
    if args.format == "openpose":
        from epicap.keypoints.openpose import read_openpose

        kp = read_openpose(args.inputs, **common)
    else:
        from epicap.keypoints.coco_json import read_coco_json

        kp = read_coco_json(args.inputs, **common)
    from epicap.keypoints.everyone import (keep_people, people_table, record_matched_offsets,
                                           who_was_kept)
    from epicap.session.detections2d import DETECTIONS_FILE

    made = [p for p in (target, out / DETECTIONS_FILE) if not p.exists()]
    try:  # the raw detections first: an unwritable session fails before any matching
        raw[0].save(out / DETECTIONS_FILE)
        people = keep_people(raw[0], choice, out)
        record_matched_offsets(out / DETECTIONS_FILE, raw[0], people)
        _save(kp, target, out, videos, raw[0], people)
    except BaseException:
        for path in made:
            path.unlink(missing_ok=True)
        raise
    rows = [(s.name, s.frames, s.max_people, s.tracks, f"{100 * s.coverage:.0f}%")
            for s in summaries]
    print(format_table(rows, ["camera", "frames read", "most people", "tracks",
                              "subject seen"]))
    if people is not None and len(people.people) > 1:
        print(people_table(people, kp.cameras))
    who = who_was_kept(people)
    print(f"{target}: {len(kp.cameras)} cameras, {kp.num_frames} frames at {kp.fps:g} fps, "
          f"{kp.joint_set}, {who}")
    return 0


def _default_names(fmt: str, inputs: list[str]) -> list[str]:
    if fmt == "openpose":
        from epicap.keypoints.openpose import camera_name_from_folder

        names = [camera_name_from_folder(p) for p in inputs]
    else:
        names = [Path(p).stem for p in inputs]
    if len(set(names)) != len(names):
        raise InputError(f"camera names from the inputs are not unique ({', '.join(names)}): "
                         "pass --names")
    return names


def _size_and_fps(args, out: Path, names: list[str]):
    """(image size (C, 2), fps, video paths or None) from the options, videos or the manifest."""
    from epicap.session.manifest import MANIFEST_FILE, SessionManifest

    C = len(names)
    size = None if args.image_size is None else np.tile(np.asarray(args.image_size), (C, 1))
    fps = args.fps
    videos = None
    if args.video is not None:
        from epicap.capture.video import probe_video

        if len(args.video) != C:
            raise InputError(f"--video: {len(args.video)} videos for {C} inputs")
        infos = [probe_video(v, read_frames=False) for v in args.video]
        videos = [str(Path(v).resolve()) for v in args.video]
        if size is None:
            size = np.array([(i.width, i.height) for i in infos])
        if fps is None:
            fps = infos[0].fps
    elif (out / MANIFEST_FILE).is_file() and (size is None or fps is None):
        man = SessionManifest.load(out)
        cams = [man.camera(n) for n in names] if set(names) <= set(man.names) else None
        if cams is None and len(man.cameras) == C:
            cams = man.cameras
        if cams is None:
            raise InputError(f"{out / MANIFEST_FILE}: its cameras ({', '.join(man.names)}) do "
                             f"not match the inputs ({', '.join(names)}): pass --names")
        if size is None:
            size = np.array([(c.width, c.height) for c in cams])
        if fps is None:
            fps = cams[0].fps
    if size is not None and (np.asarray(size) <= 0).any():
        raise InputError(f"image size must be positive, got {np.asarray(size).tolist()}")
    missing = [what for what, v in (("--image-size W H", size), ("--fps", fps)) if v is None]
    if missing:
        raise InputError(f"{' and '.join(missing)} needed: {args.format} files do not hold the "
                         "image size or frame rate (or give --video, or import into a session "
                         "made by `epicap ingest`)")
    if not fps > 0:
        raise InputError(f"--fps must be positive, got {fps}")
    return size, float(fps), videos


def _save(kp, target: Path, out: Path, videos, detections=None, people=None) -> None:
    """Write the keypoints (`people`, or the main subject `kp`) and, when missing, the manifest;
    a keypoints file this call created is removed again if the manifest cannot be written
    (nothing half-written)."""
    from epicap.keypoints.everyone import save_people_keypoints

    existed = target.exists()
    if people is None:
        kp.save(target)
    else:
        save_people_keypoints(target, detections, people)
    try:
        _write_manifest_if_missing(out, kp, videos)
    except BaseException:
        if not existed:
            target.unlink(missing_ok=True)
        raise


def _write_manifest_if_missing(out: Path, kp, videos) -> None:
    from epicap.session.manifest import MANIFEST_FILE, CameraEntry, SessionManifest

    if (out / MANIFEST_FILE).exists():
        return
    cams = [CameraEntry(name=n, fps=kp.fps, frame_count=kp.num_frames, width=int(w),
                        height=int(h), video=None if videos is None else videos[i],
                        external=videos is not None)
            for i, (n, (w, h)) in enumerate(zip(kp.cameras, kp.image_size))]
    SessionManifest(cams, source="import").save(out)


def _import_npz(args):
    from epicap.session import Keypoints2D

    if len(args.inputs) != 1:
        raise InputError(f"npz: give one keypoints2d.npz, got {len(args.inputs)} inputs")
    kp = Keypoints2D.from_npz(args.inputs[0])
    if args.names:
        kp = kp.select_cameras(args.names)
    if args.fps is not None:
        if not args.fps > 0:
            raise InputError(f"--fps must be positive, got {args.fps}")
        kp.fps = float(args.fps)
    if args.image_size is not None:
        kp.image_size = np.tile(np.asarray(args.image_size, dtype=np.int64), (len(kp.cameras), 1))
        kp.validate(kp.keypoints, args.inputs[0])
    return kp
