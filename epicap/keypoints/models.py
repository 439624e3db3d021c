"""The MediaPipe pose model as a `.task` file, built offline from the `mediapipe==0.10.21` wheel.

`mediapipe` 1.2.x runs pose estimation only through its Tasks API (`PoseLandmarker`), which reads
a `.task` bundle: an uncompressed zip holding `pose_detector.tflite` and
`pose_landmarks_detector.tflite`, each with TFLite metadata that tells the graph how to normalize
the input image. Google publishes such bundles on its own storage, which a machine reaching only
PyPI cannot download; the older wheel `mediapipe==0.10.21` (Apache-2.0) carries the same models
as plain TFLite files. `build_pose_task` adds the metadata and bundles them:

| bundle member | source in the 0.10.21 wheel | input | normalization |
|---|---|---|---|
| pose_detector.tflite | modules/pose_detection/pose_detection.tflite | 224x224 | (x - 127.5) / 127.5 |
| pose_landmarks_detector.tflite | modules/pose_landmark/pose_landmark_full.tflite | 256x256 | x / 255 |

The normalizations are those of MediaPipe's legacy graphs (`pose_detection_cpu.pbtxt`,
`pose_landmark_by_roi_cpu.pbtxt`); swapping them moves landmarks by several pixels.

The build is deterministic (fixed zip timestamps), so its sha256 is known in advance
(`BUILT_TASK_SHA256`); the built file is cached under `cache_dir()/models` with a sidecar
`.sha256` recording its digest, which is checked every time the model is used.
"""
from __future__ import annotations

import os
import sys
import types
import zipfile
from pathlib import Path

from epicap.assets import cache_dir, fetch_wheel, read_member, sha256_of
from epicap.errors import InputError
from epicap.session.io import atomic_write

__all__ = ["POSE_TASK_NAME", "BUILT_TASK_SHA256", "NORMALIZATION", "build_pose_task",
           "pose_model_path", "install_pose_model", "check_task_file", "read_normalization"]

POSE_TASK_NAME = "pose_landmarker_full_epicap.task"
SOURCE_WHEEL = "mediapipe-0.10.21"
DETECTOR_MEMBER = "mediapipe/modules/pose_detection/pose_detection.tflite"
LANDMARKS_MEMBER = "mediapipe/modules/pose_landmark/pose_landmark_full.tflite"
TASK_MEMBERS = ("pose_detector.tflite", "pose_landmarks_detector.tflite")
# bundle member -> (norm_mean, norm_std) of its float input, from MediaPipe's legacy graphs
NORMALIZATION = {"pose_detector.tflite": (127.5, 127.5),
                 "pose_landmarks_detector.tflite": (0.0, 255.0)}
# sha256 of the .task this module builds with mediapipe 1.2.2 (the build is byte-reproducible)
BUILT_TASK_SHA256 = "e2a69b1942cf3ce51b4dfcd410d4c403986c5a571394ce9bc79de345ff0d6ecc"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_VERSION_STUB = "mediapipe.tasks.cc.metadata.python._pywrap_metadata_version"


def _metadata_writer():
    """mediapipe 1.2.x's MetadataWriter, importable although its wheel lacks one native module.

    `mediapipe.tasks.python.metadata.metadata` imports `_pywrap_metadata_version`, which the 1.2.2
    wheel does not ship; it only computes the minimum metadata parser version to record. A stand-in
    registered in `sys.modules` answers "1.0.0" (the metadata written here uses no newer field).
    """
    try:
        import mediapipe
    except ImportError as e:
        raise InputError(f"mediapipe is not installed ({e}); install mediapipe>=1.2,<1.3") from None
    if not str(getattr(mediapipe, "__version__", "")).startswith("1.2."):
        raise InputError(f"building the pose model needs mediapipe 1.2.x, found "
                         f"{getattr(mediapipe, '__version__', '?')}; pass your own --model FILE.task")
    if _VERSION_STUB not in sys.modules:
        parts = _VERSION_STUB.split(".")
        parent = None
        for i in range(3, len(parts) + 1):  # mediapipe.tasks.cc, ..., _pywrap_metadata_version
            name = ".".join(parts[:i])
            module = sys.modules.get(name)
            if module is None:
                module = types.ModuleType(name)
                module.__path__ = []
                sys.modules[name] = module
            if parent is not None:
                setattr(parent, parts[i - 1], module)
            parent = module
        parent.GetMinimumMetadataParserVersion = lambda metadata_buf: "1.0.0"
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer
    return metadata_writer.MetadataWriter


def _with_metadata(model: bytes, name: str, mean: float, std: float) -> bytes:
    """The TFLite `model` with metadata declaring one RGB image input normalized (x - mean) / std."""
    writer = _metadata_writer().create(bytearray(model))
    writer.add_general_info(name).add_image_input(norm_mean=[mean], norm_std=[std])
    return bytes(writer.populate()[0])


def build_pose_task(path: str | os.PathLike, normalization: dict | None = None) -> str:
    """Build the pose `.task` bundle at `path` from the 0.10.21 wheel; returns its sha256.

    path: where to write the bundle (atomically).
    normalization: bundle member -> (mean, std); default NORMALIZATION (the right one). Tests pass
        the swapped values to show that the runtime honours them.
    """
    from mediapipe.tasks.python.metadata.metadata_writers.model_asset_bundle_utils import (
        AlignZipFile)

    norm = normalization or NORMALIZATION
    wheel = fetch_wheel(SOURCE_WHEEL)
    _metadata_writer()  # fail early with a clear message
    sources = {"pose_detector.tflite": read_member(wheel, DETECTOR_MEMBER),
               "pose_landmarks_detector.tflite": read_member(wheel, LANDMARKS_MEMBER)}
    members = {name: _with_metadata(model, name.removesuffix(".tflite"), *norm[name])
               for name, model in sources.items()}
    with atomic_write(path) as f:
        # MediaPipe mmaps the members: uncompressed and 4-byte aligned, as its own bundler does
        with AlignZipFile(f, mode="w", alignment=4) as bundle:
            for name in TASK_MEMBERS:
                info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_STORED
                bundle.writestr(info, members[name])
    return sha256_of(path)


def _models_dir() -> Path:
    return cache_dir() / "models"


def install_pose_model(force: bool = False) -> Path:
    """Build (or rebuild with `force`) the cached pose model and record its sha256; its path.

    Raises InputError saying what to do when the wheel cannot be had or the build fails.
    """
    path = _models_dir() / POSE_TASK_NAME
    record = path.with_name(path.name + ".sha256")
    if path.is_file() and record.is_file() and not force:
        return pose_model_path()
    try:
        digest = build_pose_task(path)
    except InputError as e:
        raise InputError(f"cannot build the MediaPipe pose model: {e}. Pass a pose landmarker "
                         "file with --model FILE.task instead") from None
    except (OSError, ValueError, RuntimeError, ImportError) as e:
        raise InputError(f"cannot build the MediaPipe pose model ({type(e).__name__}: {e}); "
                         "pass a pose landmarker file with --model FILE.task instead") from None
    with atomic_write(record, "w") as f:
        f.write(f"{digest}  {POSE_TASK_NAME}\n")
    if digest != BUILT_TASK_SHA256:
        from epicap.console import warn

        warn(f"the built pose model's sha256 {digest[:12]}... differs from the one this epicap "
             f"was tested with ({BUILT_TASK_SHA256[:12]}...): another mediapipe version?")
    return path


def pose_model_path(auto_install: bool = True) -> Path:
    """Path of the cached, checksummed pose model, building it on first use.

    auto_install: build it when missing (else InputError pointing at `epicap models install`).
    A cached file whose sha256 differs from the one recorded when it was built is rebuilt.
    """
    path = _models_dir() / POSE_TASK_NAME
    record = path.with_name(path.name + ".sha256")
    if not (path.is_file() and record.is_file()):
        if not auto_install:
            raise InputError(f"no pose model at {path}; run `epicap models install`")
        return install_pose_model(force=True)
    expected = record.read_text(encoding="utf-8").split()[:1]
    if not expected or sha256_of(path) != expected[0]:
        from epicap.console import warn

        warn(f"{path}: sha256 does not match the one recorded at build time; rebuilding it")
        return install_pose_model(force=True)
    return path


def check_task_file(path: str | os.PathLike) -> Path:
    """Check that `path` is a MediaPipe pose landmarker `.task` bundle; returns it as a Path.

    A bundle is a zip holding `pose_detector.tflite` and `pose_landmarks_detector.tflite`
    (Google's `pose_landmarker_{lite,full,heavy}.task` and the one epicap builds both are).
    Raises InputError naming the file and what is wrong.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such model file")
    if path.suffix != ".task":
        raise InputError(f"{path}: not a .task file (MediaPipe's PoseLandmarker needs a "
                         "pose_landmarker .task bundle)")
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError) as e:
        raise InputError(f"{path}: not a MediaPipe .task bundle ({e})") from None
    missing = [m for m in TASK_MEMBERS if m not in names]
    if missing:
        raise InputError(f"{path}: not a pose landmarker bundle (missing {', '.join(missing)})")
    return path


def read_normalization(path: str | os.PathLike) -> dict[str, tuple[float, float]]:
    """Bundle member -> (norm_mean, norm_std) of its image input, read from the TFLite metadata.

    path: a `.task` bundle. Reads the metadata flatbuffer with mediapipe's generated schema.
    """
    from mediapipe.tasks.metadata import metadata_schema_py_generated as meta_fb
    from mediapipe.tasks.metadata import schema_py_generated as schema_fb

    out = {}
    with zipfile.ZipFile(check_task_file(path)) as z:
        for name in TASK_MEMBERS:
            buf = z.read(name)
            model = schema_fb.Model.GetRootAsModel(buf, 0)
            meta = None
            for i in range(model.MetadataLength()):
                if model.Metadata(i).Name() == b"TFLITE_METADATA":
                    data = model.Buffers(model.Metadata(i).Buffer()).DataAsNumpy().tobytes()
                    meta = meta_fb.ModelMetadataT.InitFromObj(
                        meta_fb.ModelMetadata.GetRootAsModelMetadata(data, 0))
            if meta is None:
                raise InputError(f"{path}: {name} has no TFLite metadata")
            tensor = meta.subgraphMetadata[0].inputTensorMetadata[0]
            for unit in tensor.processUnits or []:
                if unit.optionsType == meta_fb.ProcessUnitOptions.NormalizationOptions:
                    out[name] = (float(unit.options.mean[0]), float(unit.options.std[0]))
    return out
