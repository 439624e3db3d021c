"""COLMAP models: epicap cameras (and 3D joints) to a pycolmap `Reconstruction`, and back.

Each epicap camera becomes a COLMAP camera (model OPENCV: fx fy cx cy k1 k2 p1 p2, or FULL_OPENCV
when k3 is set) on its own trivial rig, and one registered image `<name>.jpg` with its pose
`cam_from_world` (COLMAP's convention is epicap's: x_cam = R X + t). Pixel centres differ: OpenCV
puts the centre of the top-left pixel at (0, 0), COLMAP at (0.5, 0.5), so cx and cy gain 0.5 on the
way out and lose it on the way back. Triangulated joints become 3D points coloured by body side
(without tracks: the 2D detections are not images' feature points).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from epicap.console import warn
from epicap.errors import InputError
from epicap.session import Cameras, Poses3D
from epicap.viz.scene import side_colors

__all__ = ["reconstruction_from_cameras", "cameras_from_reconstruction", "write_colmap"]

_PIXEL_SHIFT = 0.5  # COLMAP pixel coordinate = OpenCV pixel coordinate + 0.5


def reconstruction_from_cameras(cameras: Cameras, poses: Poses3D | None = None):
    """A pycolmap.Reconstruction holding the rig (and the triangulated joints of every frame).

    cameras: the calibrated rig (extrinsics required). poses: optional 3D joints, world metres
    (several people: every person's, each in their colour).
    """
    import pycolmap

    if not cameras.has_extrinsics:
        raise InputError("COLMAP export needs camera poses (run `epicap calibrate`)")
    rec = pycolmap.Reconstruction()
    for c, name in enumerate(cameras.names):
        K, d = cameras.K[c], cameras.dist[c]
        if abs(K[0, 1]) > 1e-9:
            warn(f"camera {name}: skew {K[0, 1]:g} dropped (COLMAP's OPENCV model has none)")
        pp = (K[0, 2] + _PIXEL_SHIFT, K[1, 2] + _PIXEL_SHIFT)
        if d[4] != 0:
            model, params = "FULL_OPENCV", [K[0, 0], K[1, 1], *pp, *d[:4], d[4], 0, 0, 0]
        else:
            model, params = "OPENCV", [K[0, 0], K[1, 1], *pp, *d[:4]]
        w, h = (int(v) for v in cameras.image_size[c])
        rec.add_camera_with_trivial_rig(pycolmap.Camera(model=model, width=w, height=h,
                                                        params=params, camera_id=c + 1))
        image = pycolmap.Image(name=f"{name}.jpg", camera_id=c + 1, image_id=c + 1)
        cam_from_world = np.hstack([cameras.R[c], cameras.t[c][:, None]])
        rec.add_image_with_trivial_frame(image, pycolmap.Rigid3d(cam_from_world))
    for p in range(poses.num_people if poses is not None else 0):  # every person's joints
        from epicap.viz.people import person_side_colors

        one = poses.person(p)
        rgb = side_colors(one.skeleton) if poses.people is None else person_side_colors(
            one.skeleton, p)  # several people: each in their colour
        rgb = (255 * rgb).astype(np.uint8)
        X = one.poses.astype(np.float64)
        for t, j in zip(*np.nonzero(one.valid)):
            rec.add_point3D(X[t, j], pycolmap.Track(), rgb[j])
    return rec


def cameras_from_reconstruction(rec) -> Cameras:
    """The epicap rig of a pycolmap.Reconstruction's registered images (one camera each), in
    image-id order; names are the image names without extension. Models: PINHOLE, SIMPLE_PINHOLE,
    SIMPLE_RADIAL, RADIAL, OPENCV, FULL_OPENCV (its k4..k6 must be zero)."""
    names, sizes, Ks, dists, Rs, ts = [], [], [], [], [], []
    for image_id in sorted(rec.images):
        image = rec.images[image_id]
        if not image.has_pose:
            continue
        cam = rec.cameras[image.camera_id]
        p = np.asarray(cam.params, dtype=np.float64)
        model = cam.model.name if hasattr(cam.model, "name") else str(cam.model)
        d = np.zeros(5)
        if model == "SIMPLE_PINHOLE":
            f, cx, cy = p
            fx = fy = f
        elif model in ("SIMPLE_RADIAL", "RADIAL"):
            f, cx, cy = p[:3]
            fx = fy = f
            d[:len(p) - 3] = p[3:]
        elif model in ("PINHOLE", "OPENCV", "FULL_OPENCV"):
            fx, fy, cx, cy = p[:4]
            if model == "OPENCV":
                d[:4] = p[4:8]
            elif model == "FULL_OPENCV":
                if np.any(p[9:] != 0):
                    raise InputError(f"COLMAP camera {image.camera_id}: rational terms k4..k6 "
                                     "are not supported")
                d[:5] = p[4:9]
        else:
            raise InputError(f"COLMAP camera model {model} is not supported")
        names.append(Path(image.name).stem)
        sizes.append((cam.width, cam.height))
        Ks.append([[fx, 0, cx - _PIXEL_SHIFT], [0, fy, cy - _PIXEL_SHIFT], [0, 0, 1]])
        dists.append(d)
        M = np.asarray(image.cam_from_world().matrix(), dtype=np.float64)
        Rs.append(M[:, :3])
        ts.append(M[:, 3])
    if not names:
        raise InputError("COLMAP model has no registered images")
    return Cameras(names, np.array(sizes), np.array(Ks), np.array(dists), np.array(Rs),
                   np.array(ts))


def write_colmap(out_dir: str | os.PathLike, cameras: Cameras, poses: Poses3D | None = None,
                 text: bool = False) -> Path:
    """Write a COLMAP model (cameras, rigs, frames, images, points3D; binary unless `text`) into
    out_dir. Returns out_dir."""
    import shutil
    import tempfile

    from epicap.session.io import native_path

    out_dir = Path(out_dir)
    rec = reconstruction_from_cameras(cameras, poses)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".colmap.", suffix=".tmp", dir=out_dir))
    except OSError as e:
        raise InputError(f"{out_dir}: cannot create folder ({e.strerror or e})") from None
    try:  # written beside, flushed to disk, then moved in: a failure leaves out_dir as it was
        (rec.write_text if text else rec.write)(native_path(tmp, "output folder"))
        files = sorted(p for p in tmp.iterdir() if p.is_file())
        for f in files:
            with open(f, "rb+") as fh:
                os.fsync(fh.fileno())
        for f in files:
            os.replace(f, out_dir / f.name)
    except (OSError, RuntimeError) as e:
        raise InputError(f"{out_dir}: writing the COLMAP model failed "
                         f"({getattr(e, 'strerror', None) or e})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir
