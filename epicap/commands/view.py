"""Look at a session in 3D: skeletons, camera frusta with names, floor grid and world axes.

Opens an Open3D window that plays the triangulated sequence (Space plays or pauses, Left/Right
step one frame, Home/End jump to the ends, the slider picks a frame, Q or Esc closes; drag to turn
the view). Left joints and bones are blue, right ones orange, central ones grey; frusta are purple.
Several people: each person in their own colour (left lighter, right darker) with their id above
the head, in the window, the pictures and the overlays.
The window needs an X display (DISPLAY; on Wayland, XWayland); a virtual one works too, e.g.
`xvfb-run -a -s "-screen 0 1280x800x24" epicap view runs/lab1`.

With no display, --offscreen renders the same scene to a file instead:
FILE.png is one picture, FILE.mp4 the sequence played back (or, with --animate turntable, the
scene turned once around). --view picks the viewpoint: front (from -Y, Z up), top,
overview (from above and aside), subject (a close-up of the skeleton), or `camera NAME` (through
that camera's own lens). --overlays DIR draws each camera's 2D keypoints
and the reprojected 3D joints (magenta segments show their disagreement) as one MP4 per camera and a
contact-sheet PNG, on the session's videos or on a blank canvas when it has none.

Needs cameras.toml (`epicap calibrate`) and poses3d.npz (`epicap triangulate`); overlays need
keypoints2d.npz (`epicap detect`).

--poses FILE.npz shows what `epicap infer` wrote instead of a session (with --offscreen): the
student's root-relative poses stood upright on the floor, beside the video they came from when
it is still there.

Example:
    epicap view runs/lab1
    epicap view runs/lab1 --offscreen lab1.png --view top --size 1280x720
    epicap view runs/lab1 --offscreen lab1.mp4 --animate turntable
    epicap view runs/lab1 --overlays runs/lab1/overlays
    epicap view --poses clip_poses.npz --offscreen clip_3d.mp4
"""
from __future__ import annotations

import argparse
from pathlib import Path

from epicap.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session", nargs="?", help="session folder")
    parser.add_argument("--poses", metavar="FILE.npz",
                        help="show `epicap infer`'s output instead of a session (--offscreen)")
    parser.add_argument("--offscreen", metavar="FILE", help="render to FILE.png or FILE.mp4 "
                        "instead of opening a window")
    parser.add_argument("--view", nargs="+", default=["front"], metavar="VIEW",
                        help="front (default), top, overview, subject, or camera NAME")
    parser.add_argument("--size", default="1280x720", metavar="WxH",
                        help="picture size in pixels for --offscreen (default 1280x720)")
    parser.add_argument("--frame", type=int, help="frame to picture in a PNG (default: the one "
                        "with the most triangulated joints)")
    parser.add_argument("--animate", choices=("sequence", "turntable"), default="sequence",
                        help="what an MP4 shows (default: the sequence)")
    parser.add_argument("--step", type=int, default=1, help="MP4s and overlays: every N-th frame")
    parser.add_argument("--overlays", metavar="DIR",
                        help="write 2D overlays (one MP4 per camera and a contact sheet) into DIR")
    parser.add_argument("--force", action="store_true",
                        help="overwrite an existing output file (or overlays in DIR)")


def parse_size(text: str) -> tuple[int, int]:
    """(width, height) from "WxH"; InputError otherwise."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InputError(f"--size: expected WxH such as 1280x720, got {text!r}") from None
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise InputError(f"--size: {w}x{h} out of range (16..8192 pixels a side)")
    return w, h


def _inferred(args: argparse.Namespace, view: str) -> int:
    from epicap.session.io import refuse_overwrite
    from epicap.viz.inferred import render_inferred
    from epicap.viz.render import output_kind

    if args.session or args.overlays:
        raise InputError("--poses shows infer's output alone: no SESSION or --overlays with it")
    if not args.offscreen:
        raise InputError("--poses: give --offscreen FILE.png or FILE.mp4")
    output_kind(args.offscreen)
    size = parse_size(args.size)
    refuse_overwrite(args.offscreen, args.force, "output")
    n = render_inferred(args.poses, args.offscreen, view, size, args.frame, args.step)
    print(f"{n} frames {Path(args.offscreen)}" if n > 1 else Path(args.offscreen))
    return 0


def run(args: argparse.Namespace) -> int:
    from epicap.session.io import refuse_overwrite
    from epicap.viz.viewpoint import parse_view

    view = " ".join(args.view)
    if args.poses:
        return _inferred(args, view)
    if not args.session:
        raise InputError("view: give a SESSION folder (or --poses FILE.npz from `epicap infer`)")
    kind, name = parse_view(view)
    view = f"camera:{name}" if kind == "camera" else kind
    if args.overlays:
        from epicap.viz.overlay import OverlaySource, write_overlays

        source = OverlaySource.from_session(args.session, "view")
        for path in write_overlays(source, args.overlays, step=args.step, force=args.force):
            print(path)
        if not args.offscreen:
            return 0
    if args.offscreen:
        from epicap.viz.render import (output_kind, render_session_png, render_session_video,
                                       session_scene)

        kind = output_kind(args.offscreen)
        size = parse_size(args.size)
        cameras, poses = session_scene(args.session, "view")
        refuse_overwrite(args.offscreen, args.force, "output")
        if kind == "png":
            render_session_png((cameras, poses), args.offscreen, view, size, args.frame)
        else:
            n = render_session_video((cameras, poses), args.offscreen, view, size, args.animate,
                                     step=args.step)
            print(f"{n} frames", end=" ")
        print(Path(args.offscreen))
        return 0
    from epicap.viz.render import session_scene
    from epicap.viz.viewer import require_display, show_session

    cameras, poses = session_scene(args.session, "view")
    require_display()
    show_session(cameras, poses, title=f"epicap view {args.session}")
    return 0
