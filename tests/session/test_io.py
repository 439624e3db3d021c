import os

import numpy as np
import pytest

from epicap.errors import InputError
from epicap.session.io import atomic_write, refuse_overwrite, write_npz


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "f.npz"
    write_npz(path, {"a": np.arange(3)})
    before = path.read_bytes()
    with pytest.raises(RuntimeError):
        with atomic_write(path) as f:
            f.write(b"partial")
            raise RuntimeError("killed")
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["f.npz"]


def test_written_files_have_ordinary_permissions(tmp_path):
    write_npz(tmp_path / "f.npz", {"a": np.arange(3)})
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "f.npz").stat().st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_is_a_clear_error(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    with pytest.raises(InputError, match="cannot write"):
        write_npz(ro / "x.npz", {"a": np.arange(3)})


def test_full_disk_is_a_clear_error(tmp_path, monkeypatch):
    real_fsync = os.fsync

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(InputError, match="No space left"):
        write_npz(tmp_path / "x.npz", {"a": np.arange(3)})
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert os.listdir(tmp_path) == []


def test_refuse_overwrite(tmp_path):
    (tmp_path / "x").write_text("mine")
    with pytest.raises(InputError, match="--force"):
        refuse_overwrite(tmp_path / "x", force=False)
    refuse_overwrite(tmp_path / "x", force=True)
