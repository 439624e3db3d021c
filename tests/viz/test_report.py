import base64
import re
import shutil
import subprocess

import numpy as np
import pytest

from epicap.cli import main
from epicap.errors import InputError
from epicap.viz.report import build_report, read_metrics, read_sync_offsets
from tests.viz.session_factory import make_session


def _images(html):
    import cv2

    out = []
    for b64 in re.findall(r'src="data:image/png;base64,([^"]+)"', html):
        img = cv2.imdecode(np.frombuffer(base64.b64decode(b64), np.uint8), cv2.IMREAD_COLOR)
        assert img is not None
        out.append(img)
    return out


def _run(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.csv").write_text("step,epoch,train_loss,val_mpjpe_mm,note\n0,0,1.0,200,a\n"
                                     "10,0,0.5,,b\n20,1,0.25,90,c\n")
    return run


def test_report_is_self_contained_with_every_section(tmp_path):
    session = make_session(tmp_path / "s")
    (session / "sync.toml").write_text(  # the layout `epicap sync` writes
        'version = 1\nreference = "cam01"\n' + "".join(
            f'[cameras."{n}"]\noffset_frames = {o}\noffset_s = {o / 30}\nconfidence = 0.9\n'
            for n, o in (("cam01", 0.0), ("cam02", -3.0), ("cam03", 1.5), ("cam04", 0.0))))
    html = build_report(session, _run(tmp_path), snapshots=False)
    for title in ("Camera layout", "Calibration", "Reprojection error", "View counts",
                  "2D overlays", "Sync offsets", "Training"):
        assert f"<h2>{title}" in html
    assert "http://" not in html and "https://" not in html  # nothing fetched from anywhere
    imgs = _images(html)
    assert len(imgs) == 6 and all(i.std() > 5 for i in imgs)  # real plots, not blank
    assert "<th>offset_frames</th><th>offset_s</th><th>confidence</th>" in html
    assert "<td>cam02</td><td>-3.000</td><td>-0.100</td>" in html
    assert "val_mpjpe_mm" in html and "<td>90.000</td>" in html


def test_metrics_and_sync_readers(tmp_path):
    m = read_metrics(_run(tmp_path))
    assert set(m) == {"step", "epoch", "train_loss", "val_mpjpe_mm"}  # "note" is not numeric
    assert np.isnan(m["val_mpjpe_mm"][1])
    with pytest.raises(InputError, match="metrics.csv: not found"):
        read_metrics(tmp_path)
    assert read_sync_offsets(tmp_path, ["cam01"]) is None
    (tmp_path / "sync.json").write_text('{"result": {"offsets_s": {"cam01": 0.25}}}')
    assert read_sync_offsets(tmp_path, ["cam01"]) == {"cam01": {"offset": 0.25}}


def test_cli_report_with_snapshots(tmp_path, capsys):
    session = make_session(tmp_path / "s")
    assert main(["report", str(session)]) == 0
    html = (session / "report.html").read_text()
    assert "<h2>3D snapshots" in html and len(_images(html)) == 8
    assert main(["report", str(session), "--run", str(tmp_path / "norun")]) == 2
    assert "metrics.csv: not found" in capsys.readouterr().err


@pytest.mark.slow
def test_report_in_headless_chromium(tmp_path):
    """The page loads in a real browser with no console errors, every picture decodes, and a
    screenshot shows the plots (pixels far from uniform)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    import cv2

    session = make_session(tmp_path / "s")
    assert main(["report", str(session), "--run", str(_run(tmp_path))]) == 0
    url = (session / "report.html").resolve().as_uri()
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run(flags + ["--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert re.search(r'data-images="ok (\d+)/\1"', dom.stdout), dom.stdout[:300]
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
    shot = tmp_path / "shot.png"
    subprocess.run(flags + ["--window-size=1200,2400", f"--screenshot={shot}", url],
                   capture_output=True, timeout=120, cwd=tmp_path)
    img = cv2.imread(str(shot))
    assert img is not None and img.shape[:2] == (2400, 1200)
    assert img.std() > 20
    # matplotlib's default blue (31, 119, 180) appears: the plots are drawn
    blue = np.all(np.abs(img.astype(int) - (180, 119, 31)) < 20, axis=-1)
    assert blue.sum() > 100


def test_training_section_prints_the_lr_and_the_evaluation(tmp_path):
    session = make_session(tmp_path / "s")
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.csv").write_text("step,epoch,train_loss,val_mpjpe_mm,lr\n"
                                     "50,49,1.0,200,0.001\n100,99,0.5,80.5,5e-05\n")
    (run / "best.pt").write_bytes(b"")  # only its presence is read here
    (run / "evaluation.json").write_text('{"mpjpe_mm": 91.25, "pa_mpjpe_mm": 60.5, '
                                         '"samples": 40, "reference": "pseudo-labels", '
                                         '"checkpoint": "run/best.pt", "split": "val"}')
    html = build_report(session, run, snapshots=False)
    assert "<td>lr</td><td>5.00e-05</td>" in html and "<td>lr</td><td>0.000</td>" not in html
    assert "<td>step</td><td>100</td>" in html
    assert "best.pt (what evaluate and infer use): step 100, validation MPJPE 80.5 mm" in html
    assert "<h3>Evaluation (evaluation.json)</h3>" in html
    assert "<td>mpjpe_mm</td><td>91.250</td>" in html and "<td>split</td><td>val</td>" in html
