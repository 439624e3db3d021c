"""Random realistic camera rigs: layouts, lenses, image sizes, heights, partial and part-time views.

`random_rig(seed, motion, family)` draws a rig from a `RigFamily` (ranges). The motion (T, J, 3),
world metres, Z up, is the capture volume: every camera is placed to frame it. Per camera:
1. a place in the layout: "ring" (evenly around the volume), "corners" (the four diagonals of a
   room; more than four cameras share corners at other heights), "wall" (every camera on one side,
   azimuths within a sector of 80-140 degrees), "line" (identical cameras evenly spaced on a
   straight horizontal bar on one side, one height, converging on the volume);
2. a kind: "full" frames the whole motion; "upper" frames, with the image's height, only the
   joints above a cut at 30-55% of the body's height, as they look with the body at the
   volume's centre: the feet (or legs) fall outside the image, where `make_scene` drops them as
   a detector would, and the subject may leave its sides; "part" frames one part of the path,
   so the subject walks out of the image for part of the time;
3. an image size (landscape or portrait), a focal length (log-uniform; with the size, a field
   of view within the family's), a height; then the distance along its layout direction at
   which its framed joints fill `fill` of the image (a line: the bar's distance, framed by its
   first camera as if from the bar's middle). A camera is redrawn when the field of view, the
   distance, the downward tilt or the share of joints it sees falls outside the family
   (`same_camera`: every camera takes the first one's image size and focal length);
4. its lens: the principal point off the image centre, radial distortion k1 (drawn in the
   family's range, limited to where a k1-only lens stays monotonic beyond the image corners:
   the projection r (1 + k1 r^2) folds back at r^2 = -1 / (3 k1), a real lens does not).
A camera may also lose the subject for an explicit window of frames (`RandomRig.lose_subject`, for
`SceneOptions.lose_subject`).

Geometry, lens and lost windows draw from separate seeded streams and the redraw decisions use
the ideal lens, so a family with the principal point centred and k1 = 0 gives the same rig,
only with ideal lenses (to measure what the lens alone costs).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from epicap.errors import GeometryError, InputError
from epicap.geometry.camera import project_points, radial_fold, rotation_from_rodrigues
from epicap.session.cameras import Cameras
from epicap.synthetic.rig import look_at_rotation
from epicap.synthetic.scene import lens_valid

__all__ = ["LAYOUTS", "RigFamily", "CameraDraw", "RandomRig", "random_rig"]

LAYOUTS = ("ring", "corners", "wall", "line")
KINDS = ("full", "upper", "part")
MAX_TRIES = 400  # draws per camera before the family is declared impossible for this motion
# the distorted radius at which a k1 lens folds is 2 / (3 sqrt(-3 k1)); the image corners must
# lie this far inside it
FOLD_MARGIN = 1.15


@dataclass(frozen=True)
class RigFamily:
    """Ranges of a random rig (defaults: issue 12's realistic labs).

    layouts: drawn uniformly from these (see the module doc).
    num_cameras: (min, max), drawn log-uniformly (small rigs are the common ones).
    focal_px: (min, max) focal length in pixels, log-uniform (fx = fy).
    fov_deg: (min, max) field of view across the image's long side; a focal length and image
        size outside it are redrawn (a 640-px image at 3000 px is a 12-degree telephoto, a 4K
        one at 500 px a 150-degree fisheye that no pinhole-plus-k1 lens describes).
    image_sizes: landscape (width, height) pixels, drawn uniformly; `portrait_share` of the
        cameras turn theirs to portrait.
    pp_offset: the principal point is off the image centre by up to this fraction of the image
        width (x) and height (y), uniformly. k1: (min, max) radial distortion, uniform, within
        the monotonic limit of the module doc. k2: (min, max), uniform (default none: k2 = 0);
        a draw whose lens folds back before its image corners (with `FOLD_MARGIN`) is
        redrawn. p1 = p2 = k3 = 0.
    height_m: (min, max) camera heights above the floor. max_tilt_deg: steepest downward tilt;
        max_up_deg: steepest upward one (low cameras look up at the body).
    distance_m: (min, max) horizontal distance from the framed joints' centre.
    fill: (min, max) share of the image (its limiting side) the framed joints fill.
    upper_share, part_share: shares of cameras framing the upper body, or part of the path.
    lose_share: share of cameras that also lose the subject for `lose_span` (min, max) of the
        frames, in one window.
    min_seen: (full, upper, part) least share of the motion's joint-frames a camera of each kind
        must see (ideal lens), else it is redrawn.
    jitter_deg: each camera is turned by a random rotation of this standard deviation (degrees)
        after looking at its aim (a mount is never perfectly level).
    same_camera: every camera of a rig has the first one's image size and focal length (a lab
        of identical cameras; as a line always has).
    """

    layouts: tuple[str, ...] = LAYOUTS
    num_cameras: tuple[int, int] = (2, 16)
    focal_px: tuple[float, float] = (500.0, 3000.0)
    fov_deg: tuple[float, float] = (20.0, 110.0)
    image_sizes: tuple[tuple[int, int], ...] = ((640, 480), (1280, 720), (1000, 1000),
                                               (1920, 1080), (2704, 1520), (3840, 2160))
    portrait_share: float = 0.25
    pp_offset: float = 0.03
    k1: tuple[float, float] = (-0.35, 0.1)
    k2: tuple[float, float] = (0.0, 0.0)
    height_m: tuple[float, float] = (0.3, 3.5)
    max_tilt_deg: float = 45.0
    max_up_deg: float = 20.0
    distance_m: tuple[float, float] = (1.0, 15.0)
    fill: tuple[float, float] = (0.6, 0.9)
    upper_share: float = 0.15
    part_share: float = 0.1
    lose_share: float = 0.15
    lose_span: tuple[float, float] = (0.2, 0.5)
    min_seen: tuple[float, float, float] = (0.85, 0.2, 0.15)
    jitter_deg: float = 1.0
    same_camera: bool = False

    def __post_init__(self):
        bad = [lay for lay in self.layouts if lay not in LAYOUTS]
        if bad or not self.layouts:
            raise InputError(f"unknown layout {bad}; valid: {', '.join(LAYOUTS)}")
        lo, hi = self.num_cameras
        if not 2 <= lo <= hi:
            raise InputError(f"num_cameras must be (min, max) with 2 <= min <= max, got "
                             f"{self.num_cameras}")
        for name in ("focal_px", "fov_deg", "k1", "k2", "height_m", "distance_m", "fill",
                     "lose_span"):
            lo, hi = getattr(self, name)
            if not lo <= hi:
                raise InputError(f"{name} must be (min, max) with min <= max, got ({lo}, {hi})")
        if not (0 < self.focal_px[0] and 0 < self.distance_m[0] and 0 < self.fill[0]
                and self.fill[1] <= 1):
            raise InputError("focal_px, distance_m and fill must be positive (fill <= 1)")
        if not 0 <= self.upper_share + self.part_share <= 1:
            raise InputError("upper_share + part_share must lie in [0, 1]")


@dataclass(frozen=True)
class CameraDraw:
    """What was drawn for one camera (world metres, degrees, pixels).

    kind: "full", "upper" or "part". image_size: (width, height). focal_px: fx = fy.
    pp_offset_px: principal point minus the image centre ((w - 1) / 2, (h - 1) / 2). k1: radial
    distortion. height_m: above the floor. tilt_deg: downward (negative: looking up).
    distance_m: horizontal, from its aim along its layout direction (a line: the bar's
    distance). azimuth_deg: direction from the world origin to the camera.
    seen: share of the motion's joint-frames inside its image (with its real lens).
    lose: (start, stop) frames in which it loses the subject, or None.
    """

    name: str
    kind: str
    image_size: tuple[int, int]
    focal_px: float
    pp_offset_px: tuple[float, float]
    k1: float
    height_m: float
    distance_m: float
    tilt_deg: float
    azimuth_deg: float
    seen: float
    lose: tuple[int, int] | None


@dataclass(frozen=True)
class RandomRig:
    """A drawn rig: `cameras` (true intrinsics, distortion and `cam_from_world`), what was drawn
    per camera, and the explicit lost windows {name: (start, stop)} for `SceneOptions`."""

    seed: int
    layout: str
    cameras: Cameras
    draws: tuple[CameraDraw, ...]
    lose_subject: dict

    def describe(self) -> str:
        """One line: layout, cameras, focal range, portrait/upper/part/lost counts, k1 range."""
        d = self.draws
        f = [c.focal_px for c in d]
        k = [c.k1 for c in d]
        count = lambda pred: sum(1 for c in d if pred(c))  # noqa: E731
        parts = [f"{self.layout} {len(d)} cams", f"f {min(f):.0f}-{max(f):.0f}",
                 f"k1 {min(k):+.2f}..{max(k):+.2f}",
                 f"h {min(c.height_m for c in d):.1f}-{max(c.height_m for c in d):.1f} m"]
        for label, n in (("portrait", count(lambda c: c.image_size[1] > c.image_size[0])),
                         ("upper", count(lambda c: c.kind == "upper")),
                         ("part", count(lambda c: c.kind == "part")),
                         ("lost", count(lambda c: c.lose is not None))):
            if n:
                parts.append(f"{n} {label}")
        return ", ".join(parts)


def random_rig(seed: int, motion: np.ndarray, family: RigFamily = RigFamily(),
               num_cameras: int | None = None, layout: str | None = None) -> RandomRig:
    """A random realistic rig framing `motion`, reproducible from `seed`.

    motion: (T, J, 3) joint positions, world metres, Z up (e.g. `load_clip(...).positions`):
        the cameras frame it and must see it. family: the ranges (`RigFamily`).
    num_cameras, layout: fix these instead of drawing them.
    Returns a RandomRig; GeometryError when no camera of the family can frame this motion.
    """
    motion = np.asarray(motion, dtype=np.float64)
    if motion.ndim != 3 or motion.shape[2] != 3 or not np.isfinite(motion).all():
        raise InputError(f"motion must be finite (T, J, 3) world metres, got {motion.shape}")
    streams = np.random.SeedSequence(int(seed)).spawn(4)
    rng, lens, lost_rng, kinds_rng = (np.random.default_rng(s) for s in streams)
    if layout is None:
        layout = family.layouts[int(rng.integers(len(family.layouts)))]
    elif layout not in LAYOUTS:
        raise InputError(f"unknown layout {layout!r}; valid: {', '.join(LAYOUTS)}")
    if num_cameras is None:
        lo, hi = family.num_cameras
        num_cameras = int(np.floor(np.exp(rng.uniform(np.log(lo), np.log(hi + 1)))))
    C = int(num_cameras)
    if C < 1:
        raise InputError(f"a rig needs at least one camera, got {num_cameras}")
    T = len(motion)
    frames = motion[np.linspace(0, T - 1, min(T, 60)).astype(int)]  # what the checks project
    u = kinds_rng.random(C)
    kinds = np.where(u < family.upper_share, "upper",
                     np.where(u < family.upper_share + family.part_share, "part", "full"))
    if layout == "line":  # one camera model on one bar, framing one thing
        kinds[:] = kinds[0]
    names = [f"cam{c + 1:02d}" for c in range(C)]
    for _ in range(MAX_TRIES if layout == "line" or family.same_camera else 1):
        draws = _draw_cameras(frames, kinds, _layout_slots(layout, C, rng), family, rng)
        if draws is not None:
            break
    else:
        raise GeometryError(f"no {layout} rig of {C} cameras of this family frames the motion "
                            f"in {MAX_TRIES} draws")
    K, R, t = np.zeros((C, 3, 3)), np.zeros((C, 3, 3)), np.zeros((C, 3))
    for c, (size, focal, centre, Rc, _) in enumerate(draws):
        R[c], t[c] = Rc, -Rc @ centre
        K[c] = [[focal, 0, (size[0] - 1) / 2], [0, focal, (size[1] - 1) / 2], [0, 0, 1]]
    sizes = np.array([d[0] for d in draws])
    dist = _lens(K, sizes, family, lens)
    cams = Cameras(names, sizes, K, dist, R, t)
    lose = {}
    for c in range(C):  # every camera draws, so the windows do not depend on the shares
        span = lost_rng.uniform(*family.lose_span)
        start = lost_rng.uniform(0, 1 - span)
        if lost_rng.random() < family.lose_share:
            lose[names[c]] = (int(start * T), int((start + span) * T))
    seen = visible(motion, cams).mean(axis=(1, 2))
    out = []
    for c, (size, focal, centre, _, dist_m) in enumerate(draws):
        forward = R[c, 2]
        out.append(CameraDraw(
            names[c], str(kinds[c]), (int(size[0]), int(size[1])), float(focal),
            (float(K[c, 0, 2] - (size[0] - 1) / 2), float(K[c, 1, 2] - (size[1] - 1) / 2)),
            float(dist[c, 0]), float(centre[2]), float(dist_m),
            float(np.degrees(np.arcsin(-forward[2]))),
            float(np.degrees(np.arctan2(centre[1], centre[0]))), float(seen[c]),
            lose.get(names[c])))
    return RandomRig(int(seed), layout, cams, tuple(out), lose)


def _lens(K: np.ndarray, sizes: np.ndarray, family: RigFamily,
          rng: np.random.Generator) -> np.ndarray:
    """Moves each principal point of K (C, 3, 3) off its image's centre (in place) and returns
    the distortion (C, 5): k1 drawn in the family's range, above the monotonic limit, and k2
    in its range where the family has one."""
    dist = np.zeros((len(K), 5))
    for c, size in enumerate(sizes.astype(np.float64)):
        K[c, :2, 2] += rng.uniform(-1, 1, 2) * family.pp_offset * size
        corner = np.hypot(*np.maximum(K[c, :2, 2], size - 1 - K[c, :2, 2])) / K[c, 0, 0]
        lo = min(max(family.k1[0], -(2 / (3 * FOLD_MARGIN * corner)) ** 2 / 3), family.k1[1])
        dist[c, 0] = lo + rng.random() * (family.k1[1] - lo)
        if family.k2 != (0.0, 0.0):
            for _ in range(MAX_TRIES):
                dist[c, 1] = rng.uniform(*family.k2)
                if radial_fold(dist[c])[1][0] > FOLD_MARGIN * corner:
                    break
            else:
                dist[c, 1] = 0.0
    return dist


def visible(points: np.ndarray, cameras: Cameras) -> np.ndarray:
    """(C, ...) bool: world points (..., 3) metres in front of each camera, inside its image,
    and within the part of its lens model that does not fold back (see the module doc)."""
    P = np.asarray(points, dtype=np.float64)
    flat = P.reshape(-1, 3)
    px, _ = project_points(flat, cameras.K, cameras.R, cameras.t, cameras.dist)
    size = cameras.image_size[:, None, :]
    with np.errstate(invalid="ignore"):
        inside = (np.isfinite(px).all(-1) & (px >= -0.5).all(-1) & (px <= size - 0.5).all(-1))
    inside &= lens_valid(flat, cameras)
    return inside.reshape((len(cameras),) + P.shape[:-1])


def _draw_cameras(frames, kinds, slots, family, rng):
    """Per camera (size, focal, centre (3,), R (3, 3), distance), each redrawn until it fits the
    family; None when a later camera cannot fit with the first one's bar (a line) or model
    (`same_camera`): redraw the rig."""
    out, bar, model = [], None, None
    for c, kind in enumerate(kinds):
        for _ in range(MAX_TRIES if bar is None else 1):
            placed = _place(frames, kind, slots[c], family, rng, bar, model)
            if placed is not None:
                break
        else:
            if bar is not None or model is not None:
                return None
            raise GeometryError(f"no {kind} camera of this family frames the motion in "
                                f"{MAX_TRIES} draws")
        if slots[c]["lateral"] is not None:
            bar = placed[-1]
        if family.same_camera:
            model = placed[:2]
        out.append(placed[:-1])
    return out


def _layout_slots(layout: str, C: int, rng: np.random.Generator) -> list[dict]:
    """Per camera: its azimuth (radians, from the volume's centre) and, for a line, its lateral
    offset along the bar as a share of the bar's distance."""
    if layout == "ring":
        az = rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.arange(C) / C
        az = az + rng.uniform(-0.3, 0.3, C) * np.pi / C
    elif layout == "corners":
        first = rng.integers(4)
        az = np.pi / 4 + np.pi / 2 * ((first + np.arange(C)) % 4)
        az = az + rng.uniform(-0.15, 0.15, C) + rng.uniform(0, 2 * np.pi)
    elif layout == "wall":
        half = np.radians(rng.uniform(40, 70))
        az = rng.uniform(0, 2 * np.pi) + np.sort(rng.uniform(-half, half, C))
    else:  # line: one azimuth (the bar's normal), offsets along it
        span = rng.uniform(0.3, 1.2)
        normal = rng.uniform(0, 2 * np.pi)
        offsets = np.linspace(-span / 2, span / 2, C) if C > 1 else np.zeros(1)
        return [{"azimuth": normal, "lateral": float(o)} for o in offsets]
    return [{"azimuth": float(a), "lateral": None} for a in az]


def _place(frames, kind, slot, family, rng, bar, model=None):
    """One draw of a camera: (size, focal, centre (3,), R (3, 3), distance, bar) or None when
    it breaks the family's limits (distance, tilt, joints seen)."""
    if bar is not None:  # the line's next camera: same model, same height, same bar
        size, focal, height, dist_m, aim = bar
    else:
        w, h = family.image_sizes[int(rng.integers(len(family.image_sizes)))]
        size = (h, w) if rng.random() < family.portrait_share else (w, h)
        focal = float(np.exp(rng.uniform(*np.log(family.focal_px))))
        if model is not None:
            size, focal = model
        fov = np.degrees(2 * np.arctan(max(size) / 2 / focal))
        if not family.fov_deg[0] <= fov <= family.fov_deg[1]:
            return None
        height = float(rng.uniform(*family.height_m))
        aim, framed = _framing(frames, kind, rng)
        fill = rng.uniform(*family.fill)
        dist_m = _framing_distance(framed, aim, slot["azimuth"], height, focal, size, fill,
                                   vertical_only=kind == "upper")
    direction = np.array([np.cos(slot["azimuth"]), np.sin(slot["azimuth"]), 0.0])
    centre = np.array([aim[0], aim[1], height]) + dist_m * direction
    if slot["lateral"] is not None:
        centre += slot["lateral"] * dist_m * np.array([-direction[1], direction[0], 0.0])
    if not family.distance_m[0] <= dist_m <= family.distance_m[1]:
        return None
    R = look_at_rotation(centre[None], aim)[0]
    if family.jitter_deg > 0:
        axis = rng.normal(size=3)
        angle = np.radians(rng.normal(scale=family.jitter_deg))
        R = rotation_from_rodrigues(axis / np.linalg.norm(axis) * angle) @ R
    tilt = np.degrees(np.arcsin(-R[2, 2]))
    if not -family.max_up_deg <= tilt <= family.max_tilt_deg:
        return None
    K = np.array([[focal, 0, (size[0] - 1) / 2], [0, focal, (size[1] - 1) / 2], [0, 0, 1]])
    ideal = Cameras(["c"], [size], K[None], np.zeros((1, 5)), R[None], (-R @ centre)[None])
    seen = visible(frames, ideal)[0].mean()
    if seen < family.min_seen[KINDS.index(kind)]:
        return None
    return size, focal, centre, R, dist_m, (size, focal, height, dist_m, aim)


def _framing(frames: np.ndarray, kind: str, rng: np.random.Generator):
    """(aim (3,), framed joints (N, 3)) of a camera of `kind` on the sampled motion (F, J, 3)."""
    P = frames.reshape(-1, 3)
    if kind == "upper":  # the body's upper part as it looks at the volume's centre
        root = frames.mean(axis=1, keepdims=True) * np.array([1.0, 1.0, 0.0])
        centre = (P.min(axis=0) + P.max(axis=0)) * np.array([0.5, 0.5, 0.0])
        P = (frames - root).reshape(-1, 3) + centre
        z0, z1 = np.percentile(P[:, 2], [1, 99])
        P = P[P[:, 2] >= z0 + rng.uniform(0.3, 0.55) * (z1 - z0)]
    elif kind == "part":
        root = frames.mean(axis=1)[:, :2]  # (F, 2) the body's centre per frame
        spread = np.linalg.norm(root - root.mean(axis=0), axis=1).max()
        pick = root[rng.integers(len(root))]
        near = np.linalg.norm(root - pick, axis=1) <= max(0.5 * spread, 0.3)
        P = frames[near].reshape(-1, 3)
    lo, hi = P.min(axis=0), P.max(axis=0)
    return (lo + hi) / 2, P


def _framing_distance(points, aim, azimuth, height, focal, size, fill,
                      vertical_only=False) -> float:
    """Horizontal distance (metres) from `aim` along `azimuth` at which a camera at `height`
    looking at `aim` sees `points` (N, 3) fill `fill` of its image's limiting side, or of its
    height alone with `vertical_only` (an upper-body framing: the subject may leave the image's
    sides); bisection, inf when even 200 m is too close."""
    half = np.asarray(size, dtype=np.float64) / 2
    direction = np.array([np.cos(azimuth), np.sin(azimuth), 0.0])

    def extent(d):
        centre = np.array([aim[0], aim[1], height]) + d * direction
        R = look_at_rotation(centre[None], aim)[0]
        x = (points - centre) @ R.T
        if (x[:, 2] <= 0.05).any():
            return np.inf
        extent = np.abs(x[:, :2] / x[:, 2:]) * focal / half
        return float(extent[:, 1].max() if vertical_only else extent.max())

    lo, hi = 0.2, 200.0
    if extent(hi) > fill:
        return np.inf
    for _ in range(40):
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if extent(mid) > fill else (lo, mid)
    return hi
