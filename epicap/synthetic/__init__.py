"""Synthetic sessions with known truth: real mocap motion seen by simulated camera rigs.

    from epicap.synthetic import load_clip, ring_rig, make_scene, SceneOptions, write_session
    clip = load_clip("walk", joint_set="coco17", fps=30, num_frames=60)   # (T, J, 3) world metres
    cams = ring_rig(num_cameras=4, radius_m=4.0, height_m=1.6, focal_px=1000.0)
    scene = make_scene(clip, cams, SceneOptions(noise_px=2.0, outlier_fraction=0.1, seed=0))
    write_session(scene, "SESSION")       # keypoints2d.npz, session.toml, truth/...

Modules: `humanoid` (forward kinematics of DeepMimic's humanoid), `mocap` (clips), `rig`
(camera rings), `rigs` (random realistic rigs), `scene` (projection and corruption), `people` (several people, occluding each other,
as raw detector slots), `session` (files), `video` (rendered MP4s).
"""
from epicap.synthetic.mocap import CLIP_NAMES, EMBEDDED_CLIPS, MocapClip, load_clip
from epicap.synthetic.people import PeopleOptions, PeopleScene, make_people_scene
from epicap.synthetic.rig import look_at_rotation, ring_rig
from epicap.synthetic.rigs import RandomRig, RigFamily, random_rig
from epicap.synthetic.scene import SceneOptions, SyntheticScene, make_scene
from epicap.synthetic.session import SessionTruth, read_truth, write_session

__all__ = ["CLIP_NAMES", "EMBEDDED_CLIPS", "MocapClip", "load_clip", "ring_rig",
           "look_at_rotation", "SceneOptions", "SyntheticScene", "make_scene", "write_session",
           "SessionTruth", "read_truth", "PeopleOptions", "PeopleScene", "make_people_scene",
           "RigFamily", "RandomRig", "random_rig"]
