"""The world frame of a calibration-free solve: Z up, the floor at z = 0, metres.

- Scale: the subject's standing height in solve units, `subject_height_m` turns it into metres.
  Measured directly where the subject stands upright (trunk and a stance leg within 20 degrees of
  vertical, that leg extended, its ankle near the floor, in at least `MIN_UPRIGHT_FRAMES` frames):
  the height of each head joint above the floor over its share of body height (HEAD_HEIGHTS),
  the median over the head joints of a frame, the 90th percentile over the upright frames (a
  walk's stance leg is slightly flexed; the percentile finds the extended posture). Otherwise
  (crawling, sitting) from the lengths of the whole arms and legs (the median over frames of
  each segment, summed per limb) over their share of height (Winter, "Biomechanics and Motor
  Control of Human Movement", 4th ed., fig. 4.1: arm 0.186 + 0.146 H, leg 0.245 + 0.246 H);
  whole limbs, because detectors and skeletons disagree on where an elbow or knee lies along
  the limb more than on where the limb ends.
- Up and floor: the lowest foot joint of each foot in each frame, lifted by its height above the
  sole (ankle 0.039 H, Winter), is a floor contact candidate; a RANSAC plane through the lowest
  candidates with its normal within 30 degrees of the cameras' mean "up" (image -y axis) is the
  floor. When the contacts are too concentrated to fix its tilt (`MAX_FLOOR_TILT_SD_DEG`: a
  subject standing or walking in place, a straight walk), the up across them comes from the
  people's upright trunks and thighs (as without feet, below), else from the cameras' up, made
  perpendicular to the direction the contacts do spread along. A plane more than 5 degrees off
  the up of someone upright all along (`MIN_UPRIGHT_SHARE`) is the detector's bias at the feet:
  that up is taken.
- Without feet (ankles cropped or hidden in every camera; `floor_from` says which case held):
  up is the robust mean direction of the upright trunks (mid-hip to mid-shoulder) and thighs
  (knee to hip) over the frames, started from the cameras' up and kept only where it finds at
  least MIN_UPRIGHT_FRAMES of them within 20 degrees (otherwise the cameras' up). The floor is
  the lowest kind of joint seen (knees, else hips, else shoulders, else the head) lowered by its
  standing height as a share of body height (BODY_HEIGHTS: knee 0.285 H, hip 0.530 H, shoulder
  0.818 H; Winter 2009, fig. 4.1, after Drillis & Contini 1966), the median over the frames whose
  trunk (and a thigh, where seen) is upright. With no upright frame the floor is unknown: z = 0 is
  put at the lowest joint seen, and `floor_from` says so. The scale then comes from whole limbs as
  above, or, with no whole limb, from the segments seen (upper arm, forearm, thigh, shank, trunk,
  shoulder width; SEGMENT_RATIOS). A rig is never refused because its feet were not seen.
- Origin: on the floor under the subject's mean root position. X: towards the first camera.
"""
from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np

from epicap.errors import GeometryError
from epicap.joint_sets import JointSet

__all__ = ["WorldFrame", "estimate_world_frame", "apply_world_frame", "subject_height",
           "person_height",
           "standing_height", "HEIGHT_RATIOS", "HEAD_HEIGHTS", "BODY_HEIGHTS",
           "SEGMENT_RATIOS"]

# limb length as a fraction of body height (Winter 2009, fig. 4.1)
HEIGHT_RATIOS = {("shoulder", "elbow"): 0.186, ("elbow", "wrist"): 0.146,
                 ("hip", "knee"): 0.245, ("knee", "ankle"): 0.246}
# whole limbs: the segments above, summed
_LIMBS = (("shoulder", "elbow", "wrist"), ("hip", "knee", "ankle"))
# height above the floor of a head joint when standing upright, fraction of body height H.
# Eyes: 0.936 H (Winter 2009, fig. 4.1, after Drillis & Contini 1966). Ears (tragion): on the
# Frankfort plane with the lower rim of the orbit, about 1.7 cm (0.010 H) below the pupils. Nose
# tip about 3.6 cm (0.021 H), mouth corners about 7 cm (0.041 H) below them (facial proportions
# of adults: Farkas, "Anthropometry of the Head and Face", 1994, nasion-subnasale 5.3 cm,
# nasion about 1 cm above the pupils, subnasale-stomion 2 cm). Head top: H by definition
# (BODY_25B's "head" keypoint is the head top, as is H36M's).
HEAD_HEIGHTS = {"head": 1.0, "left_eye": 0.936, "right_eye": 0.936, "left_eye_inner": 0.936,
                "right_eye_inner": 0.936, "left_eye_outer": 0.936, "right_eye_outer": 0.936,
                "left_ear": 0.926, "right_ear": 0.926, "nose": 0.915, "mouth_left": 0.895,
                "mouth_right": 0.895}
# shoulder (acromion) height standing, fraction of H (Winter 2009, fig. 4.1)
SHOULDER_HEIGHT = 0.818
MIN_UPRIGHT_FRAMES = 5
# fewer foot contacts than this (feet cropped or hidden): the floor comes from the body instead
MIN_CONTACTS = 10
# height above the floor of a joint when standing upright, fraction of H (Winter 2009, fig. 4.1)
BODY_HEIGHTS = {"knee": 0.285, "hip": 0.530, "shoulder": SHOULDER_HEIGHT}
# segment lengths, fraction of H (Winter 2009, fig. 4.1): the limbs' segments, the trunk (hip to
# shoulder joint height, 0.818 - 0.530) and the shoulder width (biacromial, 0.259 H)
SEGMENT_RATIOS = {**HEIGHT_RATIOS, "trunk": 0.288, "shoulder_width": 0.259}
# the floor's tilt from the foot contacts is trusted about an axis when its standard deviation
# is at most this: the contacts' scatter off the plane over their spread across the axis times
# the square root of the footprints (contacts in one cell of a grid half the tolerance wide
# count once: a foot at rest gives one contact a frame, all with one error). The singular values
# used before grow with the number of contacts and trusted every plane: on the Pose2Sim demo (a
# subject balancing in place, contacts spread 3 cm across) the floor came out 22 deg off the
# lab's vertical, on its two-person trial 28 deg; both are 2.6-3.1 deg here, and their people's
# up 2-5 deg off it. Synthetic clips (1 cm noise, `tests/calibration_free/test_world.py`): a
# straight run 2.4 (plane 11 deg off, the people's up 0.6); kicks, jumps, getting up 0.7-1.7
# (the plane kept, 0.1-3.9 deg off); one of two dances over it (a leaning dancer: 2.1 deg off
# with the plane, 10 with the people's up), the other 1.2.
MAX_FLOOR_TILT_SD_DEG = 2.0
# someone whose trunk is within 10 deg of the people's up in this share of the frames stands or
# walks upright all along: a floor plane more than MAX_PLANE_LEAN_DEG off that up comes from the
# detector's bias at the feet, and the people's up is taken. The Pose2Sim two-person videos with
# the woman, who stands still, as the scale person (share 1.0): her feet's plane is 16 deg off
# the lab's vertical, 17 deg off her trunks. Synthetic walks: share 1.0, plane and people within
# 0.1-0.4 deg; kicks, jumps, dances, getting up: share 0.08-0.34.
MIN_UPRIGHT_SHARE = 0.8
MAX_PLANE_LEAN_DEG = 5.0
# height of a foot joint above the floor when standing, fraction of body height
_SOLE_HEIGHT = {"ankle": 0.039, "heel": 0.01, "big_toe": 0.01, "small_toe": 0.01,
                "foot_index": 0.01}


@dataclass
class WorldFrame:
    """`world_from_solve`: X_world = scale * Q @ X_solve + offset.

    scale: metres per solve unit. Q: (3, 3) rotation. offset: (3,) metres. height_solve: the
    subject's height in solve units. floor_from: "feet" (a plane fitted to the foot contacts),
    "feet+people" (contacts along a line, up across it from the people's upright trunks and
    thighs), "people" (up from them: contacts too concentrated, or their plane more than
    MAX_PLANE_LEAN_DEG off someone upright all along), "feet+cameras" / "cameras"
    (the same from the cameras' mean up, too few upright frames), or without feet
    "<joints> + proportions" (the lowest joints seen lowered by their standing heights: knees,
    hips, shoulders or head) or "unknown" (no upright frame: z = 0 at the lowest joint seen).
    floor_rms_m: RMS distance of the contact inliers from the floor (without feet: the robust
    spread of the per-frame floor estimates). height_from: "standing" (head above the floor in
    upright frames), "limbs" (arm and leg lengths) or "segments" (the segments seen, no whole
    limb). upright_frames: how many
    frames were upright. up_from: as floor_from with the feet seen, or without feet
    "people" (upright trunks and thighs) or "cameras", + " + path" where the subject's path over
    the floor corrected it (`upright.people_up`).
    """

    scale: float
    Q: np.ndarray
    offset: np.ndarray
    height_solve: float
    floor_from: str
    floor_rms_m: float
    height_from: str = "limbs"
    upright_frames: int = 0
    up_from: str = ""

    def describe(self) -> str:
        """One line for the summary: where the up direction, the floor and the scale came from."""
        up = self.up_from or self.floor_from
        if self.floor_from.startswith("feet") or self.floor_from in ("cameras", "people"):
            floor = (f"floor: {self.floor_from} (contacts within {100 * self.floor_rms_m:.1f} cm "
                     "RMS)")
        elif self.floor_from == "unknown":
            floor = "floor: unknown (no upright frame), z = 0 at the lowest joint seen"
        else:
            floor = (f"floor: from {self.floor_from} (estimates spread "
                     f"{100 * self.floor_rms_m:.1f} cm)")
        return f"{floor}; up: {up}; scale: {self.height_from}"


def _median_length(points3d, skeleton, a, b):
    """Median over frames of the distance between joints a and b; NaN if seen < 3 times."""
    if a not in skeleton.joints or b not in skeleton.joints:
        return float("nan")
    length = np.linalg.norm(points3d[:, skeleton.index(a)] - points3d[:, skeleton.index(b)],
                            axis=-1)
    length = length[np.isfinite(length)]
    return float(np.median(length)) if len(length) >= 3 else float("nan")


def subject_height(points3d: np.ndarray, skeleton: JointSet) -> float:
    """The subject's height (solve units) from whole arm and leg lengths; NaN if none is seen.

    points3d: (T, J, 3) joints, any frame and unit, NaN where missing. Each limb (shoulder-elbow-
    wrist, hip-knee-ankle, each side) is the sum of its segments' median lengths over the frames,
    divided by its share of height (HEIGHT_RATIOS, Winter); the median of those estimates.
    """
    estimates = []
    for side in ("left_", "right_"):
        for limb in _LIMBS:
            total, ratio = 0.0, 0.0
            for a, b in zip(limb[:-1], limb[1:]):
                total += _median_length(points3d, skeleton, side + a, side + b)
                ratio += HEIGHT_RATIOS[(a, b)]
            if np.isfinite(total):
                estimates.append(total / ratio)
    return float(np.median(estimates)) if estimates else float("nan")


def standing_height(points3d: np.ndarray, skeleton: JointSet, up: np.ndarray, floor: float,
                    height: float, quantile: float = 0.9) -> tuple[float, int]:
    """The subject's standing height (solve units) from the head's height in upright frames.

    points3d: (T, J, 3) joints, NaN where missing. up: (3,) unit normal of the floor, floor: its
    offset (a point X is on the floor when X @ up = floor). height: a first estimate of the
    height (limbs), sets the tolerances. A frame is upright when the trunk (mid-hip to
    mid-shoulder) and a leg (hip to ankle) are within 20 degrees of up, that leg is at least 95% of
    its median thigh + shank length, its ankle within 0.08 H of the floor, and the head is held up
(the head joints above the shoulders by at least 80% of what their shares of height and the
shoulders' (0.818 H, Winter) say: a bowed head drops the eyes by 5% of H). Each head joint's
    height above the floor over its share of height (HEAD_HEIGHTS) estimates H, their median per
    frame, the `quantile` of that over the upright frames is the result.
    Returns (height, number of upright frames); NaN when fewer than MIN_UPRIGHT_FRAMES.
    """
    names = skeleton.joints
    head = [(skeleton.index(n), f) for n, f in HEAD_HEIGHTS.items() if n in names]
    need = [s + j for s in ("left_", "right_") for j in ("shoulder", "hip", "knee", "ankle")]
    if not head or any(n not in names for n in need):
        return float("nan"), 0
    P = lambda n: points3d[:, skeleton.index(n)]  # noqa: E731
    cos20 = np.cos(np.radians(20))

    def along_up(v):
        with np.errstate(invalid="ignore", divide="ignore"):
            return (v @ up) / np.linalg.norm(v, axis=-1)

    trunk = (P("left_shoulder") + P("right_shoulder") - P("left_hip") - P("right_hip")) / 2
    upright = along_up(trunk) > cos20
    stance = np.zeros(len(points3d), bool)
    for side in ("left_", "right_"):
        leg = P(side + "hip") - P(side + "ankle")
        full = (_median_length(points3d, skeleton, side + "hip", side + "knee")
                + _median_length(points3d, skeleton, side + "knee", side + "ankle"))
        with np.errstate(invalid="ignore"):
            extended = np.linalg.norm(leg, axis=-1) >= 0.98 * full
            grounded = P(side + "ankle") @ up - floor < 0.08 * height
        stance |= (along_up(leg) > cos20) & extended & grounded
    upright &= stance
    idx = np.array([i for i, _ in head])
    share = np.array([f for _, f in head])
    level = points3d[:, idx] @ up - floor  # (T, k) head joints above the floor
    shoulders = (P("left_shoulder") + P("right_shoulder")) @ up / 2 - floor
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames without a head: all NaN
        per_frame = np.nanmedian(level / share, axis=1)
        # the head held up, not bowed: above the shoulders by 80% of what its share says
        raised = np.nanmedian((level - shoulders[:, None]) / ((share - SHOULDER_HEIGHT) * height),
                              axis=1)
        upright &= np.isfinite(per_frame) & (raised > 0.8)
    n = int(upright.sum())
    if n < MIN_UPRIGHT_FRAMES:
        return float("nan"), n
    return float(np.quantile(per_frame[upright], quantile)), n


def person_height(points3d: np.ndarray, skeleton: JointSet) -> tuple[float, str]:
    """(height, how) of a person from their joints (T, J, 3) in a world frame: Z up, the floor at
    z = 0 (any unit; metres in, metres out). "standing": the head's height above the floor in
    the frames where they stand upright (`standing_height`, at least MIN_UPRIGHT_FRAMES frames,
    within 0.7-1.4 times the limbs' estimate, as `estimate_world_frame` takes it); "limbs":
    from the arms and legs (`subject_height`: sitting, crouching, or a frame without that
    floor); (NaN, "") when neither is seen. A detector puts the elbows, knees and ankles of
    some people off their joint centres, so their limbs say little of their height; standing
    upright says it directly.
    """
    limbs = subject_height(points3d, skeleton)
    if not np.isfinite(limbs) or limbs <= 0:
        return float("nan"), ""
    standing, _ = standing_height(points3d, skeleton, np.array([0.0, 0.0, 1.0]), 0.0, limbs)
    if _plausible_standing(standing, limbs):
        return float(standing), "standing"
    return float(limbs), "limbs"


def _plausible_standing(standing: float, limbs: float) -> bool:
    """Whether a standing height (head above the floor) is within 0.7-1.4 times the limbs'
    estimate of the same person: else the upright frames or the floor were not what they seemed."""
    return bool(np.isfinite(standing) and 0.7 * limbs < standing < 1.4 * limbs)


def _foot_contacts(points3d, skeleton, up, height):
    """Per frame and foot, the lowest foot joint along `up`, lowered to the sole: (M, 3)."""
    out = []
    for side in ("left_", "right_"):
        idx, lift = [], []
        for name, frac in _SOLE_HEIGHT.items():
            if side + name in skeleton.joints:
                idx.append(skeleton.index(side + name))
                lift.append(frac * height)
        if not idx:
            continue
        P = points3d[:, idx] - np.asarray(lift)[None, :, None] * up  # (T, k, 3) sole points
        h = np.where(np.isfinite(P).all(-1), P @ up, np.inf)
        k = np.argmin(h, axis=1)
        low = P[np.arange(len(P)), k]
        out.append(low[np.isfinite(h[np.arange(len(P)), k])])
    return np.concatenate(out) if out else np.zeros((0, 3))


def _floor(points3d, skeleton, cam_up, height, seed):
    """(up, floor offset, source, contacts, inliers) of the floor for a subject `height` tall.

    Where the contacts do not fix the floor's tilt, the up across them comes from the people's
    upright trunks and thighs (`upright.people_up`, started from the cameras' up `cam_up`):
    source "feet+people" or "people" ("feet+cameras" / "cameras" when too few were upright).
    """
    from epicap.calibration_free.upright import people_up, upright_share

    contacts = _foot_contacts(points3d, skeleton, cam_up, height)
    if len(contacts) < 3:
        raise GeometryError("cannot find the floor: the feet (ankles) were not triangulated")

    @functools.cache
    def prior():
        up, source = people_up(points3d, skeleton, cam_up, height)
        return (up, "people") if source.startswith("people") else None

    tol = 0.03 * height
    up, floor_from, inl = _fit_floor(contacts, cam_up, tol, seed, prior)
    if floor_from == "feet" and prior() is not None:  # tipped off someone upright all along?
        people = prior()[0]
        if upright_share(points3d, skeleton, people) >= MIN_UPRIGHT_SHARE and \
                np.degrees(np.arccos(np.clip(up @ people, -1, 1))) > MAX_PLANE_LEAN_DEG:
            up, floor_from, inl = people, "people", _lowest(contacts, people, tol)
    return up, float(np.median(contacts[inl] @ up)), floor_from, contacts, inl


def _lowest(contacts, up, tol):
    """(M,) bool: the contacts (M, 3) within `tol` of the lowest tenth along `up`; all when
    none is (the floor level of an up that no plane fixed)."""
    h = contacts @ up
    near = np.abs(h - np.quantile(h, 0.1)) < tol
    return near if near.any() else np.ones(len(h), bool)


def estimate_world_frame(points3d: np.ndarray, skeleton: JointSet, R: np.ndarray,
                         t: np.ndarray, subject_height_m: float = 1.70,
                         seed: int = 0) -> WorldFrame:
    """The similarity taking a solve's frame to the world frame (Z up, floor z = 0, metres).

    points3d: (T, J, 3) triangulated joints in the solve frame (NaN where missing).
    skeleton: their joint set. R, t: (C, 3, 3), (C, 3) the cameras' `cam_from_solve` poses.
    subject_height_m: the subject's height. With the feet seen (MIN_CONTACTS foot contacts or
    more) the floor is fitted to them; otherwise up comes from the people and the floor from the
    lowest joints seen and body proportions (`WorldFrame.floor_from` says which). Raises
    GeometryError only when no body segment at all was triangulated (no scale).
    """
    from epicap.calibration_free.upright import floor_from_body, people_up, segment_height

    height, height_from = subject_height(points3d, skeleton), "limbs"
    if not np.isfinite(height) or height <= 0:
        height, height_from = segment_height(points3d, skeleton), "segments"
    if not np.isfinite(height) or height <= 0:
        raise GeometryError("cannot set the metric scale: no body segment (arm, leg, trunk or "
                            "shoulders) was triangulated in enough frames")
    cam_up = -R[:, 1, :].mean(axis=0)  # image -y axes in the solve frame
    cam_up /= np.linalg.norm(cam_up)
    upright = 0
    if len(_foot_contacts(points3d, skeleton, cam_up, height)) >= MIN_CONTACTS:
        up, d, floor_from, contacts, inl = _floor(points3d, skeleton, cam_up, height, seed)
        standing, upright = standing_height(points3d, skeleton, up, d, height)
        if _plausible_standing(standing, height):
            # the sole offsets below the foot joints scale with the height: refit the floor once
            height, height_from = standing, "standing"
            up, d, floor_from, contacts, inl = _floor(points3d, skeleton, cam_up, height, seed)
            standing, upright = standing_height(points3d, skeleton, up, d, height)
            height = standing if np.isfinite(standing) else height
        scale = subject_height_m / height
        rms = float(np.sqrt(np.mean((contacts[inl] @ up - d) ** 2))) * scale
        up_from = floor_from
    else:  # no feet: up from the people, the floor from the lowest joints and proportions
        up, up_from = people_up(points3d, skeleton, cam_up, height)
        d, floor_from, spread = floor_from_body(points3d, skeleton, up, height)
        scale = subject_height_m / height
        rms = spread * scale
    root = skeleton.root_of(points3d).reshape(-1, 3)
    root = root[np.isfinite(root).all(1)]
    if not len(root):  # no hips: the mean of the joints seen
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            root = np.nanmean(points3d, axis=1)
        root = root[np.isfinite(root).all(1)]
    centre = root.mean(axis=0)
    centre = centre - (centre @ up - d) * up  # on the floor
    cam0 = -R[0].T @ t[0]
    x = cam0 - centre
    x -= (x @ up) * up
    if np.linalg.norm(x) < 1e-9:
        x = np.cross(up, [1.0, 0, 0]) if abs(up[0]) < 0.9 else np.cross(up, [0, 1.0, 0])
    x /= np.linalg.norm(x)
    Q = np.stack([x, np.cross(up, x), up])
    return WorldFrame(scale, Q, -scale * Q @ centre, height, floor_from, rms, height_from,
                      upright, up_from)


def _fit_floor(contacts, cam_up, tol, seed, prior=None):
    """The floor plane through the lowest contacts, normal near cam_up; (normal, source, inliers).

    The plane (`_floor_plane`) is fitted to the lower half of the contacts along `cam_up`. Its
    tilt about each of its axes is trusted when fixed to within `MAX_FLOOR_TILT_SD_DEG`
    (source "feet"). Otherwise the up across the contacts comes from `prior()`, a callable
    giving (up, name) or None (then the cameras' up `cam_up`): made perpendicular to the line
    the contacts spread along ("feet+<name>"), or as it is when they do not spread ("<name>").
    """
    rng = np.random.default_rng(seed)
    h = contacts @ cam_up
    P = contacts[h <= np.quantile(h, 0.5)]
    plane = _floor_plane(P, cam_up, tol, rng)
    line = None
    if plane is not None:
        n, d = plane
        inl = np.abs(P @ n - d) < tol
        Q = P[inl] - P[inl].mean(axis=0)
        s, V = np.linalg.svd(Q, full_matrices=False)[1:]
        s = s / np.sqrt(inl.sum())  # standard deviations along V's axes; s[2]: off the plane
        prints = len(np.unique(np.round(Q @ V[:2].T / (tol / 2)), axis=0))  # footprints
        tilt_sd = np.degrees(np.arctan2(s[2], s[:2] * np.sqrt(prints)))
        fixed = (s[:2] > tol / 4) & (tilt_sd <= MAX_FLOOR_TILT_SD_DEG)
        if inl.sum() >= 10 and fixed[1]:  # contacts spread in two directions: a plane
            n = V[2] if V[2] @ cam_up > 0 else -V[2]
            return n, "feet", np.abs(contacts @ n - np.median(P[inl] @ n)) < tol
        if inl.sum() >= 2 and fixed[0]:  # spread along one line: up is perpendicular to it
            line = V[0]
    up, name = (prior() if prior is not None else None) or (cam_up, "cameras")
    if line is not None and abs(up @ line) < 0.99:
        n = up - (up @ line) * line
        n /= np.linalg.norm(n)
        full = np.abs(contacts @ n - np.median(P[inl] @ n)) < tol
        return n, "feet+" + name, full
    return up, name, _lowest(contacts, up, tol)


def _floor_plane(P, cam_up, tol, rng, trials=300):
    """(normal, level) of the plane through the contacts P (M, 3), normal within 30 deg of
    `cam_up` and towards it, or None. MSAC (Torr & Zisserman 2000): each sampled plane is
    scored by its residuals truncated at `tol`, not by how many contacts it touches. A plane
    tipped across a strip of footprints touches nearly as many within a tolerance of 3% of the
    body height as the floor does; counted, it won on straight runs, 31 deg off. The best
    plane is then refitted (least squares) to the contacts within 3 robust sigmas of it, until
    it settles. That plane picks the contacts within `tol` that `_fit_floor` tests and fits
    the floor to (returning this refit instead moved the synthetic clips' up by up to 0.5 deg
    either way, no better on the whole)."""
    if len(P) < 3:
        return None
    best_n, best_cost = None, np.inf
    for _ in range(trials):
        a, b, c = P[rng.choice(len(P), 3, replace=False)]
        n = np.cross(b - a, c - a)
        if np.linalg.norm(n) < 1e-12:
            continue
        n /= np.linalg.norm(n)
        n = n if n @ cam_up > 0 else -n
        if n @ cam_up < np.cos(np.radians(30)):
            continue
        cost = float(np.minimum(((P - a) @ n) ** 2, tol ** 2).sum())
        if cost < best_cost:
            best_n, best_cost = n, cost
    if best_n is None:
        return None
    n, d = best_n, float(np.median(P @ best_n))
    for _ in range(10):
        r = np.abs(P @ n - d)
        sigma = 1.4826 * np.median(r[r < tol]) if (r < tol).any() else tol
        near = r < min(tol, max(3 * sigma, 1e-3 * tol))
        if near.sum() < 3:
            break
        m = P[near].mean(axis=0)
        n_new = np.linalg.svd(P[near] - m, full_matrices=False)[2][2]
        n_new = n_new if n_new @ cam_up > 0 else -n_new
        settled = np.allclose(n_new, n, atol=1e-9)
        n, d = n_new, float(m @ n_new)
        if settled:
            break
    return n, d


def apply_world_frame(frame: WorldFrame, R: np.ndarray, t: np.ndarray,
                      points3d: np.ndarray | None = None):
    """Cameras (R, t) and points moved into the world frame: (R_w, t_w, points_w or None).

    R: (C, 3, 3), t: (C, 3) `cam_from_solve`; points3d: (..., 3) solve frame.
    """
    Rw = R @ frame.Q.T
    tw = frame.scale * t - np.einsum("cij,j->ci", Rw, frame.offset)
    X = None if points3d is None else frame.scale * points3d @ frame.Q.T + frame.offset
    return Rw, tw, X
