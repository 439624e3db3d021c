"""Pseudo-label datasets, the EpipolarPose and lifting students, the trainer, metrics."""
