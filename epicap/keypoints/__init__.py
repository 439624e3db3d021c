"""2D keypoints: the MediaPipe detector and importers (OpenPose JSON, COCO-style results)."""
