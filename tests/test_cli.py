"""The command line: help everywhere, version, python -m, one-line errors."""

import pytest
from helpers import assert_one_line_error, run_cli

import edgefer
import edgefer.cli


def commands() -> list[list[str]]:
    """Every command and command group the CLI has, read from the app itself."""
    from typer.main import get_command

    def walk(cmd, path):
        yield path
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, [*path, name])

    return list(walk(get_command(edgefer.cli.app), []))


def test_every_command_is_listed():
    names = {" ".join(c) for c in commands()}
    assert names >= {"", "train", "evaluate", "export", "detect", "bench", "report",
                     "visualize feature-maps", "visualize gradcam", "data info", "data pack",
                     "models"}


@pytest.mark.parametrize("cmd", commands(), ids=lambda c: " ".join(c) or "root")
def test_help(cmd):
    assert "Usage" in run_cli(*cmd, "--help").stdout


def test_help_keeps_install_hints_in_brackets():
    """Help is plain text: 'edgefer[ncnn]' is not read as markup and dropped."""
    for cmd in (["detect"], ["evaluate"], ["export"]):
        text = " ".join(run_cli(*cmd, "--help").stdout.split())
        assert "'edgefer[ncnn]'" in text, cmd


def test_run_commands_default_to_the_runs_data(trained_run, fer_path):
    """A run records its data: `report` (like export and visualize) needs no --data."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "EDGEFER_DATA"}
    out = trained_run.parent / "report.html"
    run_cli("report", str(trained_run), "--out", str(out), env=env)
    assert out.stat().st_size > 10_000


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
