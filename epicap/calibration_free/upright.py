"""Up, floor and scale from the body alone, when the feet were not seen (`world` uses these).

A crop that hides the feet (a camera framed at the knees, a desk, a bed) still leaves the trunk,
the thighs and the subject's path: upright trunks point up, a walk's path lies on the floor, and a
standing person's knees, hips and shoulders sit at known shares of body height above it (Winter,
"Biomechanics and Motor Control of Human Movement", 4th ed., 2009, fig. 4.1, after Drillis &
Contini 1966: knee 0.285 H, hip 0.530 H, shoulder 0.818 H). Measured on DeepMimic clips seen in a
random solve frame (10 mm joint noise, coco17 and body25b): a walk with the feet cropped gives up
within 0.1 deg and the floor within 1 cm, legs cropped 0.1 deg / 1 cm, the waist up (no hips;
up from the cameras) the floor within 2.3 cm; a straight run 0.6-0.7 deg / 3-6 cm; a jump
1.3-2.4 deg / 3-12 cm (its crouches). A crawl has no upright frame: the floor is then called
unknown and z = 0 put at the lowest joint seen (3-7 cm off).
"""
from __future__ import annotations

import warnings

import numpy as np

from epicap.calibration_free.world import (BODY_HEIGHTS, HEAD_HEIGHTS, HEIGHT_RATIOS,
                                           MIN_UPRIGHT_FRAMES, SEGMENT_RATIOS, _median_length)
from epicap.joint_sets import JointSet

__all__ = ["segment_height", "people_up", "upright_share", "floor_from_body"]


def segment_height(points3d, skeleton) -> float:
    """The height (solve units) from single segments (no whole limb seen); NaN if none is seen.

    The median over the segments seen of each one's median length over its share of height
    (SEGMENT_RATIOS): limb segments per side, the trunk (mid-hip to mid-shoulder), the shoulder
    width. Less certain than whole limbs (where a detector puts an elbow or a knee along the limb
    varies), a fallback for crops that show no whole arm or leg.
    """
    estimates = []
    for (a, b), ratio in HEIGHT_RATIOS.items():
        for side in ("left_", "right_"):
            length = _median_length(points3d, skeleton, side + a, side + b)
            if np.isfinite(length):
                estimates.append(length / ratio)
    names = skeleton.joints
    if all(s + j in names for s in ("left_", "right_") for j in ("shoulder", "hip")):
        P = lambda n: points3d[:, skeleton.index(n)]  # noqa: E731
        trunk = np.linalg.norm((P("left_shoulder") + P("right_shoulder")
                                - P("left_hip") - P("right_hip")) / 2, axis=-1)
        trunk = trunk[np.isfinite(trunk)]
        if len(trunk) >= 3:
            estimates.append(float(np.median(trunk)) / SEGMENT_RATIOS["trunk"])
    width = _median_length(points3d, skeleton, "left_shoulder", "right_shoulder")
    if np.isfinite(width):
        estimates.append(width / SEGMENT_RATIOS["shoulder_width"])
    return float(np.median(estimates)) if estimates else float("nan")


def _trunks(points3d, skeleton, neck=False):
    """(T, 3) mid-hip to mid-shoulder vectors (with `neck`, else mid-shoulder to mid-ear); None."""
    names = skeleton.joints
    P = lambda n: points3d[:, skeleton.index(n)]  # noqa: E731
    pairs = [("shoulder", "hip"), ("ear", "shoulder")][:2 if neck else 1]
    for top, bottom in pairs:
        if all(s + j in names for s in ("left_", "right_") for j in (top, bottom)):
            v = (P("left_" + top) + P("right_" + top) - P("left_" + bottom)
                 - P("right_" + bottom)) / 2
            if np.isfinite(v).all(1).sum() >= MIN_UPRIGHT_FRAMES:
                return v
    return None


def upright_share(points3d: np.ndarray, skeleton: JointSet, up: np.ndarray,
                  max_angle_deg: float = 10.0) -> float:
    """The share of the frames with a trunk (mid-hip to mid-shoulder) whose trunk is within
    `max_angle_deg` of `up` (3,): near 1 for someone standing or walking upright all along,
    0.08-0.34 for dancing, kicking, jumping or getting up (synthetic clips). points3d: (T, J, 3);
    0 without hips or shoulders."""
    trunk = _trunks(points3d, skeleton)
    if trunk is None:
        return 0.0
    trunk = trunk[np.isfinite(trunk).all(1)]
    cos = trunk @ np.asarray(up, np.float64) / np.linalg.norm(trunk, axis=1)
    return float(np.mean(cos > np.cos(np.radians(max_angle_deg))))


def people_up(points3d: np.ndarray, skeleton: JointSet, cam_up: np.ndarray, height: float,
              max_angle_deg: float = 20.0) -> tuple[np.ndarray, str]:
    """The up direction from upright trunks and thighs: (unit (3,), where it came from).

    points3d: (T, J, 3) joints, NaN where missing. height: the subject's height, same unit.
    cam_up: (3,) the cameras' mean up, the start and the tie-breaker (a crawl's horizontal
    trunks never come within 45 degrees of it). Each frame gives its trunk (mid-hip to
    mid-shoulder) and, in the frames whose trunk is upright, its thighs (knee to hip) as unit
    vectors; from cam_up, the mean of the vectors within 45, 30, then `max_angle_deg` degrees of
    the current estimate, repeated (a robust mean direction: leg swing and a lean that turns
    with the subject average out). Then the subject's path: where the root travels along a line
    (a straight walk, whose forward lean the mean keeps; within 45 degrees of level, a standard
    deviation over 0.15 H and 3 times the next), up is made perpendicular to it; where it
    spreads over a plane within 30 degrees of that up, up is the plane's normal. Without hips
    only the path corrects cam_up. Returns (up, source): "people", "cameras" (fewer than
    MIN_UPRIGHT_FRAMES upright trunks, or no hips), + " + path" where the path corrected it.
    """
    names = skeleton.joints
    trunk = _trunks(points3d, skeleton)
    if trunk is None:  # the head's posture on the shoulders varies too much to be an up
        return _path_up(points3d, skeleton, np.asarray(cam_up, np.float64), height, "cameras")

    def unit(v):
        v = v[np.isfinite(v).all(1)]
        norm = np.linalg.norm(v, axis=1)
        return v[norm > 0] / norm[norm > 0, None]

    up = np.asarray(cam_up, np.float64)
    n = 0
    for angle in (45, 30, max_angle_deg, max_angle_deg, max_angle_deg):
        cos = np.cos(np.radians(angle))
        with np.errstate(invalid="ignore", divide="ignore"):
            upright = (trunk @ up) / np.linalg.norm(trunk, axis=1) > cos
        V = [unit(trunk[upright])]
        for side in ("left_", "right_"):
            if side + "hip" in names and side + "knee" in names:
                thigh = (points3d[upright, skeleton.index(side + "hip")]
                         - points3d[upright, skeleton.index(side + "knee")])
                V.append(unit(thigh))
        V = np.concatenate(V)
        near = V @ up > cos
        n = int(upright.sum())
        if n < MIN_UPRIGHT_FRAMES:
            return _path_up(points3d, skeleton, np.asarray(cam_up, np.float64), height,
                            "cameras")
        up = V[near].mean(axis=0)
        up /= np.linalg.norm(up)
    return _path_up(points3d, skeleton, up, height, "people")


def _path_up(points3d, skeleton, up, height, source):
    """(`up` corrected by the subject's path over the floor (see `people_up`), its source)."""
    root = skeleton.root_of(points3d)
    if not np.isfinite(root).all(1).sum() >= MIN_UPRIGHT_FRAMES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            root = np.nanmean(points3d, axis=1)
    root = root[np.isfinite(root).all(1)]
    if len(root) < MIN_UPRIGHT_FRAMES:
        return up, source
    s, V = np.linalg.svd(root - root.mean(axis=0), full_matrices=False)[1:]
    s = s / np.sqrt(len(root))  # standard deviations along the principal directions
    # a path: spread along the floor (over 0.15 H) well above the root's bobbing (gait, crouches)
    if s[1] > 0.15 * height and s[1] > 3 * s[2] and abs(V[2] @ up) > np.cos(np.radians(30)):
        return (V[2] if V[2] @ up > 0 else -V[2]), source + " + path"
    if s[0] > 0.15 * height and s[0] > 3 * s[1] and abs(V[0] @ up) < np.sin(np.radians(45)):
        n = up - (up @ V[0]) * V[0]
        return n / np.linalg.norm(n), source + " + path"
    return up, source


def floor_from_body(points3d, skeleton, up, height):
    """(floor offset, source, spread) without feet: the lowest joint kind seen, lowered.

    The lowest kind of joint seen (knees, hips, shoulders, head; at least MIN_UPRIGHT_FRAMES
    upright frames) lowered by its standing height (BODY_HEIGHTS, HEAD_HEIGHTS) times `height`;
    per frame the lower knee (the stance leg) or the mean of the two hips or shoulders, the
    median over the frames whose trunk is within 20 degrees of `up` (and a thigh within 15
    degrees, where thighs are seen: a crouch lowers the hips). With no upright frame:
    (the lowest joint seen, "unknown", nan).
    """
    names = skeleton.joints
    level = points3d @ up  # (T, J)
    P = lambda n: points3d[:, skeleton.index(n)]  # noqa: E731

    def angle_ok(v, deg):
        with np.errstate(invalid="ignore", divide="ignore"):
            return (v @ up) / np.linalg.norm(v, axis=-1) > np.cos(np.radians(deg))

    trunk = _trunks(points3d, skeleton, neck=True)
    upright = angle_ok(trunk, 20) if trunk is not None else np.zeros(len(points3d), bool)
    thighs = [P(s + "hip") - P(s + "knee") for s in ("left_", "right_")
              if s + "hip" in names and s + "knee" in names]
    if thighs:  # a thigh upright too where seen, unless that leaves too few frames (a run)
        thigh_seen = np.any([np.isfinite(v).all(-1) for v in thighs], axis=0)
        thigh_up = np.any([angle_ok(v, 15) for v in thighs], axis=0)
        if (upright & (~thigh_seen | thigh_up)).sum() >= MIN_UPRIGHT_FRAMES:
            upright &= ~thigh_seen | thigh_up
    kinds = [(kind, [(skeleton.index(s + kind), share) for s in ("left_", "right_")
                     if s + kind in names]) for kind, share in BODY_HEIGHTS.items()]
    kinds.append(("head", [(skeleton.index(n), share) for n, share in HEAD_HEIGHTS.items()
                           if n in names]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames without the joint: all NaN
        for kind, joints in kinds:
            if not joints:
                continue
            idx = np.array([j for j, _ in joints])
            est = level[:, idx] - np.array([f for _, f in joints]) * height
            est = np.nanmin(est, axis=1) if kind == "knee" else (
                np.nanmedian(est, axis=1) if kind == "head" else np.nanmean(est, axis=1))
            est = est[upright & np.isfinite(est)]
            if len(est) >= MIN_UPRIGHT_FRAMES:
                d = float(np.median(est))
                spread = 1.4826 * float(np.median(np.abs(est - d)))
                return d, f"{kind}{'s' if kind != 'head' else ''} + proportions", spread
    low = level[np.isfinite(level)]
    return float(np.quantile(low, 0.01)) if len(low) else 0.0, "unknown", float("nan")
