"""Reading a video back in tests with OpenCV alone (independent of epicap's own readers)."""
import numpy as np


def read_video(path):
    """(frames (N, H, W, 3) uint8 BGR, fps) of every frame OpenCV decodes from `path`."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    return np.array(frames), fps
