"""A virtual X display for the window tests: Xvfb, window screenshots with xwd, input with xdotool.

The screenshot is X's own XWD format (`xwd -id WINDOW`), read here with numpy (X11's XWDFile.h:
a big-endian header of 25 CARD32s, the window name, `ncolors` 12-byte colour entries, then the
pixels in the header's byte order and masks), so no image tool beyond x11-apps is needed.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from typing import Callable

import numpy as np

TOOLS = ("Xvfb", "xwd", "xdotool")
MISSING_REASON = ("the window test needs Xvfb, xwd and xdotool "
                  "(Debian: apt-get install xvfb x11-apps xdotool)")


def tools_missing() -> bool:
    """True when one of Xvfb, xwd, xdotool is not on PATH."""
    return any(shutil.which(t) is None for t in TOOLS)


def read_xwd(data: bytes) -> np.ndarray:
    """(H, W, 3) uint8 RGB from an XWD file's bytes (ZPixmap, 24 or 32 bits per pixel)."""
    head = np.frombuffer(data[:100], ">u4")
    header_size, pixmap_format = int(head[0]), int(head[2])
    width, height = int(head[4]), int(head[5])
    byte_order, bits_per_pixel, bytes_per_line = int(head[7]), int(head[11]), int(head[12])
    masks, ncolors = head[14:17], int(head[19])
    if pixmap_format != 2 or bits_per_pixel not in (24, 32):
        raise ValueError(f"XWD: only 24/32-bit ZPixmap is read, got format {pixmap_format}, "
                         f"{bits_per_pixel} bits per pixel")
    start = header_size + 12 * ncolors
    rows = np.frombuffer(data[start:start + bytes_per_line * height], np.uint8)
    rows = rows.reshape(height, bytes_per_line)
    step = bits_per_pixel // 8
    raw = rows[:, :width * step].reshape(height, width, step).astype(np.uint32)
    if byte_order == 1:  # MSBFirst
        raw = raw[..., ::-1]
    value = sum(raw[..., i] << (8 * i) for i in range(step))
    out = []
    for mask in (int(m) for m in masks):
        shift = (mask & -mask).bit_length() - 1
        out.append(((value & mask) >> shift).astype(np.uint8))
    return np.stack(out, axis=-1)


class VirtualDisplay:
    """An Xvfb server on a free display number, stopped on exit.

        with VirtualDisplay() as xd:
            env = xd.env()           # os.environ with DISPLAY set
            wid = xd.find_window("epicap view", timeout_s=30)
            rgb = xd.capture(wid)
    """

    def __init__(self, size: tuple[int, int] = (1600, 1000)):
        self.size = size
        self.display: str | None = None
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> "VirtualDisplay":
        read_fd, write_fd = os.pipe()
        self._proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-screen", "0",
             f"{self.size[0]}x{self.size[1]}x24", "-nolisten", "tcp"],
            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write_fd)
        with os.fdopen(read_fd) as f:
            number = f.readline().strip()  # written once the server accepts connections
        if not number:
            self._proc.kill()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"
        return self

    def __exit__(self, *exc) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=10)

    def env(self) -> dict:
        """os.environ with DISPLAY set to this server."""
        return {**os.environ, "DISPLAY": self.display}

    def _run(self, *args: str, timeout_s: float = 30, check: bool = True) -> bytes:
        done = subprocess.run(list(args), env=self.env(), capture_output=True, text=False,
                              timeout=timeout_s, check=check)
        return done.stdout

    def find_window(self, title: str, timeout_s: float = 60) -> str:
        """The X id of the first window whose title contains `title`, waiting for it to map."""
        out = self._run("xdotool", "search", "--sync", "--onlyvisible", "--name", title,
                        timeout_s=timeout_s)
        return out.decode().split()[0]

    def capture(self, window: str) -> np.ndarray:
        """(H, W, 3) uint8 RGB of the window's contents."""
        return read_xwd(self._run("xwd", "-silent", "-id", window))

    def key(self, window: str, *keys: str, check: bool = True) -> None:
        """Send key presses (xdotool names: space, Right, End, q) to the window. check=False for
        a key that closes it: the key's release then finds no window (X's BadWindow)."""
        self._run("xdotool", "key", "--window", window, *keys, check=check)

    def click(self, window: str, x: int, y: int, hold_s: float = 0.3) -> None:
        """Left click at (x, y) pixels of the window, the button held `hold_s` seconds as a hand
        would (an ImGui widget misses a press and release that land in the same drawn frame)."""
        self._run("xdotool", "mousemove", "--window", window, str(x), str(y), "sleep", str(hold_s),
                  "mousedown", "1", "sleep", str(hold_s), "mouseup", "1")

    def drag(self, window: str, start: tuple[int, int], end: tuple[int, int],
             steps: int = 10, step_s: float = 0.05) -> None:
        """Press the left button at `start` (window pixels), move to `end` in `steps` steps
        (`step_s` apart, as a hand drags), release."""
        args = ["xdotool", "mousemove", "--window", window, str(start[0]), str(start[1]),
                "sleep", "0.2", "mousedown", "1"]
        for k in range(1, steps + 1):
            x = round(start[0] + (end[0] - start[0]) * k / steps)
            y = round(start[1] + (end[1] - start[1]) * k / steps)
            args += ["sleep", str(step_s), "mousemove", "--window", window, str(x), str(y)]
        self._run(*args, "sleep", "0.2", "mouseup", "1")

    def wait_for(self, window: str, condition: Callable[[np.ndarray], bool],
                 timeout_s: float = 30.0) -> np.ndarray:
        """Screenshots until one satisfies `condition` (returns it); AssertionError with the last
        one's shape at timeout. Polls: a software renderer draws when it gets to it."""
        deadline = time.monotonic() + timeout_s
        while True:
            rgb = self.capture(window)
            if condition(rgb):
                return rgb
            if time.monotonic() > deadline:
                raise AssertionError(f"no screenshot satisfied the condition in {timeout_s} s")
            time.sleep(0.2)
