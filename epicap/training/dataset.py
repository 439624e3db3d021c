"""The pseudo-label dataset on disk: sharded `.npy` arrays, memory-mapped, and a JSON manifest.

Layout of a DATASET folder:

    manifest.json                 format, version, joint set, shards, sources, filter counts
    shard-00000.label.npy         float32 (N, J, 3)  3D pseudo-label, metres, camera frame
    shard-00000.keypoints.npy     float32 (N, J, 3)  2D x, y pixels (original image), confidence
    shard-00000.weight.npy        float32 (N, J)     per-joint weight in [0, 1] (0: do not use)
    shard-00000.source.npy        int32   (N, 3)     session index, camera index, frame
    shard-00000.truth.npy         float32 (N, J, 3)  true 3D, camera frame (synthetic sessions)
    shard-00000.crop.npy          uint8   (N, S, S, 3) RGB person crop (sessions with videos)
    shard-00000.crop_box.npy      float32 (N, 3)     crop's x0, y0, side in original pixels

`truth` and `crop`/`crop_box` exist only when the manifest says so (`has_truth`, `crop_size`).
Every shard is a plain `.npy` read with `np.load(mmap_mode="r")`, so a dataset larger than memory
trains without loading it; nothing is pickled.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from epicap import __version__
from epicap.errors import InputError
from epicap.joint_sets import JointSet, get_joint_set
from epicap.session.io import atomic_write

__all__ = ["DATASET_FORMAT", "DATASET_VERSION", "MANIFEST", "ShardWriter", "PoseDataset"]

DATASET_FORMAT = "epicap-pose-dataset"
DATASET_VERSION = 1
MANIFEST = "manifest.json"
_DTYPES = {"label": np.float32, "keypoints": np.float32, "weight": np.float32,
           "source": np.int32, "truth": np.float32, "crop": np.uint8, "crop_box": np.float32}


class ShardWriter:
    """Appends samples and writes them as shards of at most `shard_size` samples.

    Each shard's arrays are written atomically; the manifest is written last by `close`, so a
    folder without `manifest.json` is an unfinished dataset and readers refuse it.
    """

    def __init__(self, out: str | os.PathLike, joint_set: str, crop_size: int | None,
                 has_truth: bool, shard_size: int = 4096):
        self.out = Path(out)
        self.joint_set = get_joint_set(joint_set)
        self.crop_size = crop_size
        self.has_truth = has_truth
        self.shard_size = int(shard_size)
        self.keys = ["label", "keypoints", "weight", "source"] + (["truth"] if has_truth else []) \
            + (["crop", "crop_box"] if crop_size else [])
        self._pending: dict[str, list[np.ndarray]] = {k: [] for k in self.keys}
        self._pending_n = 0
        self.shards: list[dict] = []
        self.out.mkdir(parents=True, exist_ok=True)

    def add(self, **arrays: np.ndarray) -> None:
        """Append a batch of samples: one array per key, all with the same leading length N."""
        missing = [k for k in self.keys if k not in arrays]
        if missing:
            raise ValueError(f"ShardWriter.add: missing {missing}")
        n = len(arrays["label"])
        for k in self.keys:
            a = np.asarray(arrays[k], dtype=_DTYPES[k])
            if len(a) != n:
                raise ValueError(f"ShardWriter.add: {k} has {len(a)} samples, label has {n}")
            self._pending[k].append(a)
        self._pending_n += n
        while self._pending_n >= self.shard_size:
            self._flush(self.shard_size)

    def _flush(self, n: int) -> None:
        if n == 0:
            return
        name = f"shard-{len(self.shards):05d}"
        rest = {}
        for k in self.keys:
            a = np.concatenate(self._pending[k]) if self._pending[k] else np.zeros((0,))
            with atomic_write(self.out / f"{name}.{k}.npy") as f:
                np.save(f, a[:n], allow_pickle=False)
            rest[k] = [a[n:]] if len(a) > n else []
        self._pending = rest
        self._pending_n -= n
        self.shards.append({"name": name, "samples": int(n)})

    def close(self, sources: list[dict], filters: dict, counts: dict) -> dict:
        """Write the remaining samples and the manifest; returns the manifest."""
        self._flush(self._pending_n)
        manifest = {
            "format": DATASET_FORMAT, "version": DATASET_VERSION, "epicap_version": __version__,
            "joint_set": self.joint_set.name, "joints": list(self.joint_set.joints),
            "num_samples": int(sum(s["samples"] for s in self.shards)),
            "crop_size": int(self.crop_size) if self.crop_size else None,
            "has_truth": bool(self.has_truth), "label_frame": "camera", "units": "metres",
            "shards": self.shards, "sources": sources, "filters": filters, "counts": counts,
        }
        with atomic_write(self.out / MANIFEST, "w") as f:
            json.dump(manifest, f, indent=1)
        return manifest


@dataclass
class PoseDataset:
    """A pseudo-label dataset opened for reading: shards memory-mapped, a global sample index.

    Use `PoseDataset.open(path)`. `get(key, indices)` gathers samples (B, ...) of one array across
    shards; `sequence_neighbours` finds temporal neighbours for windowed students.
    """

    path: Path
    manifest: dict
    arrays: dict[str, list[np.ndarray]] = field(default_factory=dict)
    offsets: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))

    @classmethod
    def open(cls, path: str | os.PathLike) -> "PoseDataset":
        """Open DATASET (its manifest.json); InputError for a missing, foreign or broken dataset."""
        path = Path(path)
        mpath = path / MANIFEST
        if not mpath.is_file():
            raise InputError(f"{path}: not a dataset (no {MANIFEST}; make one with `epicap label`)")
        try:
            manifest = json.loads(mpath.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise InputError(f"{mpath}: unreadable manifest ({e})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != DATASET_FORMAT:
            raise InputError(f"{mpath}: not an epicap pose dataset manifest")
        if manifest.get("version") != DATASET_VERSION:
            raise InputError(f"{mpath}: dataset format version {manifest.get('version')!r}, "
                             f"this epicap reads {DATASET_VERSION}")
        try:
            skel = get_joint_set(manifest["joint_set"])
            shards = [(str(s["name"]), int(s["samples"])) for s in manifest["shards"]]
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(f"{mpath}: malformed manifest ({e})") from None
        if list(manifest.get("joints", [])) != list(skel.joints):
            raise InputError(f"{mpath}: joints do not match joint set {skel.name}")
        keys = ["label", "keypoints", "weight", "source"]
        keys += ["truth"] if manifest.get("has_truth") else []
        keys += ["crop", "crop_box"] if manifest.get("crop_size") else []
        J = len(skel)
        expect = {"label": (J, 3), "keypoints": (J, 3), "weight": (J,), "source": (3,),
                  "truth": (J, 3), "crop_box": (3,)}
        if manifest.get("crop_size"):
            S = int(manifest["crop_size"])
            expect["crop"] = (S, S, 3)
        arrays: dict[str, list[np.ndarray]] = {k: [] for k in keys}
        for name, n in shards:
            for k in keys:
                f = path / f"{name}.{k}.npy"
                try:
                    a = np.load(f, mmap_mode="r", allow_pickle=False)
                except FileNotFoundError:
                    raise InputError(f"{f}: missing shard file") from None
                except (OSError, ValueError) as e:
                    raise InputError(f"{f}: unreadable shard ({e})") from None
                if a.shape != (n,) + expect[k] or a.dtype != _DTYPES[k]:
                    raise InputError(f"{f}: shape {a.shape} {a.dtype}, manifest says "
                                     f"{(n,) + expect[k]} {np.dtype(_DTYPES[k])}")
                arrays[k].append(a)
        offsets = np.concatenate([[0], np.cumsum([n for _, n in shards])]).astype(np.int64)
        if offsets[-1] == 0:
            raise InputError(f"{path}: the dataset holds no samples")
        return cls(path, manifest, arrays, offsets)

    def __len__(self) -> int:
        return int(self.offsets[-1])

    @property
    def skeleton(self) -> JointSet:
        return get_joint_set(self.manifest["joint_set"])

    @property
    def has_truth(self) -> bool:
        return "truth" in self.arrays

    @property
    def crop_size(self) -> int | None:
        return self.manifest.get("crop_size") or None

    def get(self, key: str, indices: np.ndarray) -> np.ndarray:
        """Samples `indices` (B,) of array `key`, gathered across shards: (B, ...) in RAM."""
        if key not in self.arrays:
            raise InputError(f"{self.path}: the dataset has no {key!r} data"
                             + (" (it was labelled without videos: no crops)" if key == "crop"
                                else ""))
        indices = np.asarray(indices, dtype=np.int64)
        shard = np.searchsorted(self.offsets, indices, side="right") - 1
        parts = self.arrays[key]
        out = np.empty((len(indices),) + parts[0].shape[1:], dtype=parts[0].dtype)
        for s in np.unique(shard):
            sel = np.nonzero(shard == s)[0]
            local = indices[sel] - self.offsets[s]
            order = np.argsort(local)  # sorted reads are kinder to a memory map
            out[sel[order]] = parts[s][local[order]]
        return out

    def all(self, key: str) -> np.ndarray:
        """Every sample of `key` (N, ...) in RAM (small arrays only: labels, keypoints)."""
        return self.get(key, np.arange(len(self)))

    def sequence_neighbours(self, window: int) -> np.ndarray:
        """(N, W) sample indices of frames f - W//2 .. f + W//2 of each sample's own sequence.

        A sequence is one camera of one session. A neighbour frame that is not in the dataset
        (filtered out, or beyond the ends) is replaced by the nearest frame that is.
        """
        src = self.all("source").astype(np.int64)
        n = len(src)
        if window <= 1:
            return np.arange(n)[:, None]
        # frames < 2**24 and cameras < 2**16, so a key never crosses into another sequence
        key = (src[:, 0] << 40) | (src[:, 1] << 24) | src[:, 2]
        order = np.argsort(key, kind="stable")
        skey = key[order]
        half = window // 2
        out = np.empty((n, window), dtype=np.int64)
        for w, df in enumerate(range(-half, window - half)):
            # the existing frame nearest to f + df on the way back to f (f itself exists)
            if df < 0:
                pos = np.searchsorted(skey, key + df, side="left")
            else:
                pos = np.searchsorted(skey, key + df, side="right") - 1
            out[:, w] = order[pos]
        return out
