"""Synthetic sessions with known truth: real mocap motion seen by simulated camera rigs."""
