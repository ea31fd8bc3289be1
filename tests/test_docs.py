"""The README and docs/ are kept honest: every ```python snippet runs (and prints what the
```text block right after it shows), every `edgefer` command line in a ```bash block uses a
real command and real options, the API page lists exactly the public names, the generated
tables are current, and every link, named file and named test exists. Shipped models and
the photo only: no training."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import typer
from helpers import REPO, load_script

import edgefer
from edgefer.cli import app

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```[ \t]*$", re.S | re.M)


def blocks(path: Path) -> list[tuple[str, str, int, int]]:
    """Each fenced block of a page: (language, body, start, end offsets)."""
    return [(m[1], m[2], m.start(), m.end()) for m in FENCE.finditer(path.read_text())]


def snippets(path: Path) -> list[tuple[str, str | None]]:
    """A page's ```python blocks, each with the ```text block that directly follows it (its
    output), or None."""
    text, found = path.read_text(), blocks(path)
    out = []
    for i, (lang, body, _, end) in enumerate(found):
        if lang != "python":
            continue
        after = found[i + 1] if i + 1 < len(found) else None
        shown = after[1] if after and after[0] == "text" and not text[end:after[2]].strip() \
            else None
        out.append((body, shown))
    return out


def rel(path: Path) -> str:
    return str(path.relative_to(REPO))


# ------------------------------------------------------------------ python snippets

WITH_SNIPPETS = [p for p in PAGES if snippets(p)]


def write_clip(photo: Path, path: Path, frames: int = 3) -> None:
    """A short .mp4 of the photo sliding sideways (mp4v, as `detect --save x.mp4` writes)."""
    img = cv2.imread(str(photo))
    h, w = img.shape[:2]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (w, h))
    for i in range(frames):
        out.write(np.roll(img, 2 * i, axis=1))
    out.release()


@pytest.fixture
def snippet_dir(photo, fer_path, tmp_path, monkeypatch) -> Path:
    """A folder with the files the snippets name: astronaut.png and a 3-frame clip.mp4; the
    face detector is the shipped one, as a user gets it."""
    shutil.copy(photo, tmp_path / "astronaut.png")
    write_clip(photo, tmp_path / "clip.mp4")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EDGEFER_DETECTOR", raising=False)
    monkeypatch.setenv("EDGEFER_DATA", str(fer_path))
    return tmp_path


@pytest.mark.parametrize("page", WITH_SNIPPETS, ids=rel)
def test_python_snippets_run_and_print_what_they_show(page, snippet_dir):
    namespace: dict = {}
    for i, (code, shown) in enumerate(snippets(page), 1):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"{rel(page)} python snippet {i}", "exec"), namespace)
        if shown is not None:
            assert out.getvalue() == shown, f"{rel(page)} snippet {i} printed {out.getvalue()!r}"
    if page.name == "README.md":
        assert namespace["summary"].frames == 3
        for name in ("astronaut-annotated.png", "clip-annotated.mp4", "clip.csv",
                     "clip-timeline.png"):
            assert (snippet_dir / name).exists(), name


def test_the_readme_shows_three_python_snippets_and_their_output():
    readme = snippets(REPO / "README.md")
    assert len(readme) == 3
    assert readme[0][1] == "happy 0.9 (180, 66, 90, 110)\n"


# ------------------------------------------------------------------ edgefer command lines

ROOT = typer.main.get_command(app)
SEPARATORS = {"|", "||", "&&", ";", "&"}
REDIRECTS = {">", ">>", "<", "2>", "2>&1"}
WRAPPERS = {"sudo", "libcamerify", "time", "nohup", "env"}


def shell_lines(body: str) -> list[str]:
    """A bash block's logical lines: continuations joined."""
    return body.replace("\\\n", " ").splitlines()


def commands(line: str) -> list[list[str]]:
    """The simple commands of a shell line, comments and redirections removed."""
    lex = shlex.shlex(line, posix=True, punctuation_chars=True)
    lex.whitespace_split, lex.commenters = True, "#"
    out, current, skip = [], [], False
    for tok in lex:
        if skip:
            skip = False
        elif tok in SEPARATORS:
            out.append(current)
            current = []
        elif tok in REDIRECTS:
            skip = True
        else:
            current.append(tok)
    return [c for c in [*out, current] if c]


def edgefer_args(tokens: list[str]) -> list[str] | None:
    """The arguments given to edgefer by one command (`edgefer ...`, `python -m edgefer ...`,
    `torchrun ... -m edgefer ...`, behind env assignments or wrappers), else None."""
    while tokens and (re.match(r"[A-Za-z_]\w*=", tokens[0]) or tokens[0] in WRAPPERS):
        tokens = tokens[1:]
    if not tokens:
        return None
    if Path(tokens[0]).name == "edgefer" and not tokens[0].startswith("."):
        return tokens[1:]
    for i, tok in enumerate(tokens[:-1]):
        if tok == "-m" and tokens[i + 1] == "edgefer":
            return tokens[i + 2:]
    return None


def is_group(cmd) -> bool:
    """A command with subcommands (typer's own groups, duck-typed: typer vendors click)."""
    return isinstance(getattr(cmd, "commands", None), dict)


def option_names(cmd) -> set[str]:
    return {"--help", *(o for p in cmd.params for o in (*p.opts, *p.secondary_opts))}


def check_args(args: list[str]) -> list[str]:
    """What is wrong with one edgefer command line: unknown commands or options."""
    cmd, path, problems = ROOT, ["edgefer"], []
    for tok in args:
        if is_group(cmd) and not tok.startswith("-"):
            if tok not in cmd.commands:
                return [f"{' '.join(path)}: no command {tok!r}"]
            cmd = cmd.commands[tok]
            path.append(tok)
        elif re.match(r"--?[A-Za-z]", tok) and tok.split("=", 1)[0] not in option_names(cmd):
            problems.append(f"{' '.join(path)}: no option {tok.split('=', 1)[0]}")
    if is_group(cmd) and "--help" not in args and "--version" not in args:
        problems.append(f"{' '.join(path)}: a group, not a command")
    return problems


def cli_lines() -> list[tuple[str, list[str]]]:
    return [(f"{rel(page)}: {line.strip()}", args)
            for page in PAGES for lang, body, _, _ in blocks(page) if lang in ("bash", "sh")
            for line in shell_lines(body) for cmd in commands(line)
            if (args := edgefer_args(cmd)) is not None]


def test_every_edgefer_command_line_uses_real_commands_and_options():
    lines = cli_lines()
    assert len(lines) >= 40, f"only {len(lines)} edgefer command lines found: the parser broke"
    problems = [f"{where}\n    {p}" for where, args in lines for p in check_args(args)]
    assert not problems, "\n".join(problems)


def test_the_command_line_checker_catches_mistakes():
    assert check_args(["detect", "--source", "a.jpg", "--no-align", "--min-face=96"]) == []
    assert check_args(["data", "info"]) == [] and check_args(["--version"]) == []
    assert check_args(["detect", "--sauce", "a.jpg"]) == ["edgefer detect: no option --sauce"]
    assert check_args(["detekt"]) == ["edgefer: no command 'detekt'"]
    assert check_args(["data"]) == ["edgefer data: a group, not a command"]
    line = "EDGEFER_PEERS=m libcamerify edgefer bench --quick | tee x  # a comment --nope"
    assert [edgefer_args(c) for c in commands(line)] == [["bench", "--quick"], None]
    assert edgefer_args(shlex.split("torchrun --nproc-per-node 4 -m edgefer train")) == \
        ["train"]
    assert edgefer_args(shlex.split("pip install ./edgefer")) is None


# ------------------------------------------------------------------ API page, tables

def test_the_api_page_lists_exactly_the_public_names():
    page = (REPO / "docs" / "api.md").read_text()
    section = page.split("\n## Public names\n", 1)[1].split("\n## ", 1)[0]
    names = re.findall(r"^\| `([^`]+)` \|", section, re.M)
    assert len(names) == len(set(names)), "a name is listed twice"
    assert set(names) == set(edgefer.__all__), (
        f"undocumented: {sorted(set(edgefer.__all__) - set(names))}, "
        f"not public: {sorted(set(names) - set(edgefer.__all__))}")


def test_generated_tables_are_current():
    tables = load_script(REPO / "docs" / "tables.py")
    assert tables.stale() == [], "stale tables: run `python docs/tables.py`"


# ------------------------------------------------------------------ links, paths, tests

def prose(path: Path) -> str:
    """A page without its fenced blocks."""
    return FENCE.sub("", path.read_text())


def anchors(path: Path) -> set[str]:
    """GitHub's anchors for a page's headings."""
    found, counts = set(), {}
    for heading in re.findall(r"^#{1,6} (.+)$", prose(path), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        n = counts[slug] = counts.get(slug, -1) + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def test_links_point_at_files_and_headings_that_exist():
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", prose(page)):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            dest = (page.parent / file).resolve() if file else page
            if not dest.exists():
                broken.append(f"{rel(page)}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{rel(page)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


PATH = re.compile(r"`((?:\.ci|benchmarks|docs|edgefer|export|recipes|tests)/[^`\s{}*]*)`")


def test_named_files_and_tests_exist():
    missing = [f"{rel(page)}: {p}" for page in PAGES for p in PATH.findall(page.read_text())
               if not (REPO / p).exists()]
    defined = set(re.findall(r"def (test_\w+)\(", "\n".join(
        p.read_text() for p in (REPO / "tests").rglob("test_*.py"))))
    missing += [f"{rel(page)}: {t}" for page in PAGES
                for t in re.findall(r"`(test_\w+)`", page.read_text()) if t not in defined]
    assert not missing, "\n".join(missing)


def test_no_page_speaks_of_sessions():
    assert [rel(p) for p in PAGES if re.search(r"session", p.read_text(), re.I)] == []
