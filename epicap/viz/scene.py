"""The 3D scene of a session as Open3D geometries: skeleton, camera frusta, floor grid, world axes.

One function builds every static geometry (`static_geometries`); the skeleton is one `LineSet`
(bones) and one `PointCloud` (joints) whose points are replaced in place per frame
(`Skeleton.set_frame`), as Open3D's own animation examples do. Colours separate the body's sides:
left joints and bones blue, right ones orange, central ones dark grey (`side_colors`).

World frame: Z up, the floor at z = 0, metres (see `epicap.geometry`). `import open3d` happens
inside the functions, so importing this module is cheap.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from epicap.joint_sets import JointSet
from epicap.session import Cameras, Poses3D

__all__ = ["LEFT_RGB", "RIGHT_RGB", "CENTRE_RGB", "FRUSTUM_RGB", "side_colors", "bone_colors",
           "scene_bounds", "best_frame", "Skeleton", "static_geometries", "Geometry"]

LEFT_RGB = (0.10, 0.45, 0.95)    # blue
RIGHT_RGB = (1.00, 0.50, 0.00)   # orange
CENTRE_RGB = (0.25, 0.25, 0.25)  # dark grey
FRUSTUM_RGB = (0.55, 0.10, 0.60)  # purple: far from the body colours and the axes
GRID_RGB = (0.78, 0.78, 0.78)
AXES_RGB = ((0.9, 0.1, 0.1), (0.1, 0.7, 0.1), (0.1, 0.1, 0.9))  # X red, Y green, Z blue


def side_colors(skeleton: JointSet) -> np.ndarray:
    """(J, 3) RGB in [0, 1] per joint: left blue, right orange, central dark grey."""
    table = {-1: LEFT_RGB, 1: RIGHT_RGB, 0: CENTRE_RGB}
    return np.array([table[int(s)] for s in skeleton.side], dtype=np.float64)


def bone_colors(skeleton: JointSet) -> np.ndarray:
    """(B, 3) RGB per bone: left if it touches a left joint and no right one, right likewise,
    central otherwise (the hips' and shoulders' cross bones)."""
    side = skeleton.side[skeleton.bone_index]  # (B, 2)
    left = (side == -1).any(axis=1) & ~(side == 1).any(axis=1)
    right = (side == 1).any(axis=1) & ~(side == -1).any(axis=1)
    out = np.tile(np.asarray(CENTRE_RGB), (len(side), 1))
    out[left] = LEFT_RGB
    out[right] = RIGHT_RGB
    return out


def scene_bounds(cameras: Cameras | None, poses: Poses3D | None) -> tuple[np.ndarray, float]:
    """Centre (3,) and radius (metres) of a sphere holding the camera centres and every
    triangulated joint of every frame; (origin, 1 m) when there is nothing to hold."""
    pts = []
    if poses is not None:
        pts.append(poses.poses[poses.valid].astype(np.float64))
    if cameras is not None and cameras.has_extrinsics:
        pts.append(cameras.centers)
    pts = np.concatenate(pts) if pts else np.zeros((0, 3))
    if len(pts) == 0:
        return np.zeros(3), 1.0
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    centre = (lo + hi) / 2
    return centre, max(float(np.linalg.norm(hi - lo) / 2), 0.5)


def best_frame(poses: Poses3D) -> int:
    """Index of the first frame with the most triangulated joints (the picture's default)."""
    return int(np.argmax(poses.valid.sum(axis=1)))


@dataclass
class Geometry:
    """A named Open3D geometry with how to draw it: kind is "line", "point" or "mesh"."""

    name: str
    geometry: object
    kind: str
    size: float = 1.0  # line width or point size in pixels


class Skeleton:
    """One skeleton's bones (a LineSet) and joints (a PointCloud), updated in place per frame.

    poses: the sequence to show. A joint not triangulated in a frame (NaN) is left out of that
    frame, with every bone that touches it.
    """

    def __init__(self, poses: Poses3D, line_width: float = 4.0, point_size: float = 9.0,
                 joint_rgb: np.ndarray | None = None, bone_rgb: np.ndarray | None = None,
                 suffix: str = ""):
        import open3d as o3d

        self.poses = poses  # joint_rgb (J, 3), bone_rgb (B, 3): another person's colours
        skel = poses.skeleton
        self._bones = skel.bone_index
        self._bone_rgb = bone_colors(skel) if bone_rgb is None else np.asarray(bone_rgb)
        self._joint_rgb = side_colors(skel) if joint_rgb is None else np.asarray(joint_rgb)
        self.suffix = suffix  # appended to the geometry names (one skeleton per person)
        self.bones = o3d.geometry.LineSet()
        self.joints = o3d.geometry.PointCloud()
        self.line_width, self.point_size = line_width, point_size
        self.frame = -1
        self.set_frame(best_frame(poses))

    @property
    def num_frames(self) -> int:
        return len(self.poses.poses)

    def set_frame(self, t: int) -> None:
        """Show frame t (clamped to the sequence): rewrites the LineSet's and PointCloud's data."""
        import open3d as o3d

        t = int(np.clip(t, 0, self.num_frames - 1))
        X = self.poses.poses[t].astype(np.float64)
        ok = np.isfinite(X).all(axis=1)
        keep = ok[self._bones].all(axis=1)
        safe = np.where(ok[:, None], X, 0.0)
        self.bones.points = o3d.utility.Vector3dVector(safe)
        self.bones.lines = o3d.utility.Vector2iVector(self._bones[keep].astype(np.int32))
        self.bones.colors = o3d.utility.Vector3dVector(self._bone_rgb[keep])
        self.joints.points = o3d.utility.Vector3dVector(X[ok])
        self.joints.colors = o3d.utility.Vector3dVector(self._joint_rgb[ok])
        self.frame = t

    def geometries(self) -> list[Geometry]:
        """The two geometries to add to (or replace in) a scene."""
        return [Geometry("skeleton_bones" + self.suffix, self.bones, "line", self.line_width),
                Geometry("skeleton_joints" + self.suffix, self.joints, "point", self.point_size)]


def static_geometries(cameras: Cameras | None, poses: Poses3D | None,
                      grid_step_m: float = 0.5) -> list[Geometry]:
    """Camera frusta, the floor grid (z = 0) and the world axes at the origin.

    cameras: the rig (frusta only when it has extrinsics). poses: used to size and place the grid.
    grid_step_m: grid spacing in metres. Frusta come from
    `LineSet.create_camera_visualization(w, h, K, cam_from_world, scale)`, with a depth `scale`
    of 12% of the scene radius so they read at any rig size.
    """
    import open3d as o3d

    centre, radius = scene_bounds(cameras, poses)
    out = []
    if cameras is not None and cameras.has_extrinsics:
        scale = 0.12 * radius
        for c, name in enumerate(cameras.names):
            cam_from_world = np.eye(4)
            cam_from_world[:3, :3], cam_from_world[:3, 3] = cameras.R[c], cameras.t[c]
            w, h = (int(v) for v in cameras.image_size[c])
            frustum = o3d.geometry.LineSet.create_camera_visualization(
                w, h, cameras.K[c], cam_from_world, scale)
            frustum.paint_uniform_color(FRUSTUM_RGB)
            out.append(Geometry(f"frustum_{c}", frustum, "line", 3.0))
    # floor grid under the scene, covering it, on z = 0
    half = grid_step_m * np.ceil(1.1 * radius / grid_step_m)
    cx, cy = (np.round(centre[:2] / grid_step_m) * grid_step_m)
    ticks = np.arange(-half, half + 1e-9, grid_step_m)
    segs = [((cx + v, cy - half, 0), (cx + v, cy + half, 0)) for v in ticks]
    segs += [((cx - half, cy + v, 0), (cx + half, cy + v, 0)) for v in ticks]
    out.append(Geometry("floor_grid", _lineset(np.array(segs, dtype=np.float64), GRID_RGB), "line",
                        1.0))
    axis_len = max(0.25, 0.15 * radius)
    axes = np.zeros((3, 2, 3))
    for i in range(3):
        axes[i, 1, i] = axis_len
    out.append(Geometry("world_axes", _lineset(axes, np.asarray(AXES_RGB)), "line", 3.0))
    return out


def _lineset(segments: np.ndarray, rgb) -> object:
    """A LineSet from (S, 2, 3) segments; rgb (3,) for all or (S, 3) per segment."""
    import open3d as o3d

    ls = o3d.geometry.LineSet()
    ls.points = o3d.utility.Vector3dVector(segments.reshape(-1, 3))
    ls.lines = o3d.utility.Vector2iVector(np.arange(2 * len(segments)).reshape(-1, 2))
    ls.colors = o3d.utility.Vector3dVector(np.broadcast_to(np.asarray(rgb, float),
                                                           (len(segments), 3)).copy())
    return ls
