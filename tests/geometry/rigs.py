"""The camera ring the triangulation tests share: `epicap.synthetic.ring_rig` as K, R, t arrays."""
from epicap.synthetic import ring_rig


def ring_krt(C, image_size=(1920, 1080)):
    """K (C, 3, 3), R (C, 3, 3), t (C, 3) `cam_from_world` of C cameras on a 4 m ring at 1.5 m
    height, f = 1000 px, looking at (0, 0, 1) world metres; principal point at the image centre."""
    cams = ring_rig(C, radius_m=4.0, height_m=1.5, focal_px=1000.0, image_size=image_size)
    return cams.K, cams.R, cams.t
