"""Capture: record several cameras with per-frame timestamps, ingest existing videos, sync."""
