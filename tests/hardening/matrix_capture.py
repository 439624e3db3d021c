"""Bad-input matrix cases of the verbs that make sessions: synth, record, ingest."""
from __future__ import annotations

import os

from tests.hardening.workspace import NON_UTF8, QUICK, Case


def _synth(out: str, *extra: str) -> list[str]:
    return ["synth", "--out", out, "--cameras", "2", "--frames", "8", *extra, *QUICK]


def _record(out: str, *cams: str, extra=()) -> list[str]:
    args = ["record", "--out", out]
    for c in cams:
        args += ["--camera", c]
    return args + ["--duration", "0.3", *extra, *QUICK]


CAPTURE_CASES: list[Case] = [
    # ---- synth ----------------------------------------------------------------------------------
    Case("synth", "bad-option", lambda w: _synth(w.path("o"), "--image-size", "0x0"),
         message="--image-size"),
    Case("synth", "bad-option", lambda w: ["synth", "--out", w.path("o"), "--cameras", "0"],
         message="--cameras"),
    Case("synth", "bad-option", lambda w: _synth(w.path("o"), "--offsets-frames", "1,2,3"),
         message="--offsets-frames"),
    Case("synth", "bad-option", lambda w: _synth(w.path("o"), "--fps", "nan"), message="fps"),
    Case("synth", "bad-option", lambda w: _synth(w.path("o"), "--frames", "0"), message="frames"),
    Case("synth", "bad-option", lambda w: _synth(w.path("o"), "--noise-px", "-1"),
         message="noise"),
    Case("synth", "bad-option", lambda w: _synth(w.path("o"), "--outliers", "2"),
         message="outlier"),
    Case("synth", "one-camera", lambda w: ["synth", "--out", w.path("o"), "--cameras", "1",
                                           "--frames", "5", *QUICK], exit=0, message="1 cameras"),
    Case("synth", "spaces", lambda w: _synth(w.path("my data", "a session")), exit=0,
         message="my data"),
    Case("synth", "exists", lambda w: _synth(str(w.synth("o"))), message="--force"),
    Case("synth", "read-only", lambda w: _synth(os.path.join(w.mkdir("ro"), "s")),
         read_only="ro"),
    Case("synth", "full-disk", lambda w: _synth(w.path("o")), full_disk=True,
         message="No space"),
    Case("synth", "full-disk", lambda w: _synth(str(w.synth("o")), "--force"), full_disk=True,
         message="No space"),
    Case("synth", "wrong-shape", lambda w: _synth(w.file("afile", b"x") + "/s"),
         message="afile"),
    # ---- record (a synthetic camera or a video file as the source) ------------------------------
    Case("record", "missing", lambda w: _record(w.path("o"), w.path("nope.mp4")),
         message="nope.mp4"),
    Case("record", "empty", lambda w: _record(w.path("o"), w.file("e.mp4"))),
    Case("record", "truncated", lambda w: _record(w.path("o"), w.truncated_video())),
    Case("record", "exists", lambda w: _record(str(w.synth("o")), "synthetic:30"),
         message="not empty"),
    Case("record", "bad-option", lambda w: _record(w.path("o"), "synthetic:30",
                                                   extra=["--names", "a", "b"]),
         message="--names"),
    Case("record", "bad-option", lambda w: _record(w.path("o"), "synthetic:30",
                                                   extra=["--names", "../up"]),
         message="camera name"),
    Case("record", "bad-option", lambda w: _record(w.path("o"), "synthetic:0")),
    Case("record", "read-only", lambda w: _record(os.path.join(w.mkdir("ro"), "s"),
                                                  "synthetic:30"), read_only="ro"),
    Case("record", "spaces", lambda w: _record(w.path("my data", "s 1"), "synthetic:30"),
         exit=0, message="my data"),
    # ---- ingest ---------------------------------------------------------------------------------
    Case("ingest", "missing", lambda w: ["ingest", "--out", w.path("o"), w.path("nope.mp4")],
         message="nope.mp4"),
    Case("ingest", "empty", lambda w: ["ingest", "--out", w.path("o"), w.file("e.mp4")],
         message="e.mp4"),
    Case("ingest", "truncated", lambda w: ["ingest", "--out", w.path("o"), w.video(),
                                           w.truncated_video()], message="cut.mp4"),
    Case("ingest", "truncated", lambda w: ["ingest", "--out", w.path("o"),
                                           w.truncated_video("cut.avi", "MJPG"), *QUICK],
         exit=0, message="session of 1 camera "),
    Case("ingest", "frame-counts", lambda w: ["ingest", "--out", w.path("o"),
                                              w.video("a.mp4", 5), w.video("b.mp4", 9), *QUICK],
         exit=0, message="session of 2 cameras"),
    Case("ingest", "non-utf8", lambda w: ["ingest", "--out", w.path("o"),
                                          w.video(NON_UTF8 + b".mp4")], message="UTF-8"),
    Case("ingest", "non-utf8", lambda w: ["ingest", w.video(NON_UTF8 + b".mp4"), "--out",
                                          w.path("o"), "--reference", "--names", "a"],
         message="UTF-8"),
    Case("ingest", "non-utf8", lambda w: ["ingest", w.video(), "--out", w.path("o"),
                                          "--names", "cam\udcff"], message="camera name"),
    Case("ingest", "bad-option", lambda w: ["ingest", w.video(), "--out", w.path("o"),
                                            "--names", "../x"], message="camera name"),
    Case("ingest", "bad-option", lambda w: ["ingest", "--out", w.path("o"), "--fps", "-1",
                                            w.video()], message="fps"),
    Case("ingest", "one-camera", lambda w: ["ingest", "--out", w.path("o"), w.video(), *QUICK],
         exit=0, message="session of 1 camera "),
    Case("ingest", "spaces", lambda w: ["ingest", "--out", w.path("my data", "s 1"),
                                        w.video("cam 01.mp4"), *QUICK], exit=0,
         message="my data"),
    Case("ingest", "exists", lambda w: ["ingest", "--out", str(w.synth("o")), w.video()],
         message="--force"),
    Case("ingest", "read-only", lambda w: ["ingest", "--out", os.path.join(w.mkdir("ro"), "s"),
                                           w.video()], read_only="ro"),
    Case("ingest", "full-disk", lambda w: ["ingest", "--out", w.path("o"), w.video("a.mp4"),
                                           w.video("b.mp4")], full_disk=True,
         message="No space"),
    Case("ingest", "full-disk", lambda w: ["ingest", "--out", w.path("o"), "--reference",
                                           w.video("a.mp4")], full_disk=True,
         message="No space"),
]
