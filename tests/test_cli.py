import subprocess
import sys

from epicap.cli import VERBS, build_parser, main


def test_help_lists_available_verbs(capsys):
    parser = build_parser()
    text = parser.format_help()
    assert "VERB" in text


def test_no_verb_is_a_usage_error(capsys):
    assert main([]) == 2


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "epicap.cli", "--version"], capture_output=True,
                         text=True)
    assert out.returncode == 0 and out.stdout.startswith("epicap ")
    assert "demo" in VERBS
