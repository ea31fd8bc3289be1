"""The command line: help everywhere, version, python -m, one-line errors."""

import pytest
from conftest import assert_one_line_error, run_cli

import edgefer

COMMANDS = [[], ["data"], ["data", "info"], ["models"], ["train"], ["evaluate"]]


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c) or "root")
def test_help(cmd):
    assert "Usage" in run_cli(*cmd, "--help").stdout


def test_version():
    assert run_cli("--version").stdout.strip() == f"edgefer {edgefer.__version__}"


def test_missing_model_file(tmp_path, fer_path):
    proc = run_cli("evaluate", str(tmp_path / "nope.pt"), "--data", str(fer_path), check=False)
    assert_one_line_error(proc, "checkpoint not found")


def test_no_dataset_anywhere(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if k != "EDGEFER_DATA"}
    env["EDGEFER_CACHE"] = str(tmp_path)
    proc = run_cli("data", "info", check=False, env=env)
    assert_one_line_error(proc, "no dataset given", "EDGEFER_DATA")
