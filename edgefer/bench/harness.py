"""The harness every script in benchmarks/ runs on (torch-free, like the whole bench package).

`parser(__doc__, __file__, "data", "detector", ...)` builds a script's argparse parser with
the options the scripts share, each with one default: `--data` (FER2013, found as the CLI
finds it), `--detector` (YuNet: the one shipped in the package unless given or
$EDGEFER_DETECTOR), `--model` (the default shipped model), `--threads`, `--photo` (a real
face photo: scikit-image's astronaut unless given) and `--out` (the output stem: the script
writes STEM.md and STEM.json, by default benchmarks/NAME beside the script). A `Report` is
what a script writes: a header line naming the command and the machine (CPU model, cores,
ISA, library versions, date), then prose and `Table`s, as markdown and as JSON, both files
written atomically. `run(main)` turns a user error into one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NoReturn, TypeVar

import numpy as np

from edgefer.atomic import atomic_write_text
from edgefer.errors import BadArgumentError, EdgeferError, first_line
from edgefer.machine import machine_info, machine_line

SHARED = ("data", "detector", "model", "photo", "threads", "out")
EPILOG = ("Shared options and output files: edgefer/bench/harness.py; every script: "
          "benchmarks/README.md.")
PHOTO = "astronaut.png"  # scikit-image's copy of ../shared/models/testdata/astronaut.png
Cell = str | int | float | None


def positive(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def threads_text(threads: int | None) -> str:
    """--threads in words: "1 thread", "2 threads", "all cores"."""
    return "all cores" if threads is None else f"{threads} thread{'s' * (threads != 1)}"


class BenchParser(argparse.ArgumentParser):
    """argparse whose errors are one line (`error: ...`, exit code 2) and whose `parse`
    resolves the shared options and records the command line."""

    def __init__(self, doc: str, script: str | Path, shared: Sequence[str]) -> None:
        super().__init__(prog=f"python benchmarks/{Path(script).name}", description=doc,
                         epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
        self.script, self.shared = Path(script), tuple(shared)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message}\n")

    def parse(self, argv: Sequence[str] | None = None) -> argparse.Namespace:
        """Parse `argv` (default: sys.argv[1:]): --data, --detector and --model become
        resolved paths, and `command` is the line that ran the script."""
        argv = list(sys.argv[1:] if argv is None else argv)
        args = self.parse_args(argv)
        args.command = shlex.join(["python", f"benchmarks/{self.script.name}", *argv])
        try:
            self._resolve(args)
        except EdgeferError as e:
            self.error(first_line(e))
        return args

    def _resolve(self, args: argparse.Namespace) -> None:
        if "data" in self.shared:
            from edgefer.data import resolve_data

            args.data = resolve_data(args.data)
        if "detector" in self.shared:
            from edgefer.runtime.face_detector import resolve_detector

            args.detector = resolve_detector(args.detector)
        if "model" in self.shared:
            from edgefer.runtime.assets import resolve_model

            args.model = resolve_model(args.model)


def parser(doc: str, script: str | Path, *shared: str, threads: int | None = None,
           out: str | Path | None = None) -> BenchParser:
    """A benchmark script's parser: `doc` (its docstring) as the description, and the
    `shared` options it takes, of SHARED. `threads` is --threads' default (None: all
    cores); `out` is --out's default stem (default: benchmarks/NAME beside the script)."""
    unknown = set(shared) - set(SHARED)
    if unknown:
        raise ValueError(f"no shared option {', '.join(sorted(unknown))}: {', '.join(SHARED)}")
    p = BenchParser(doc, script, shared)
    if "data" in shared:
        p.add_argument("--data", default=None,
                       help="FER2013 .csv, .npz or image-folder root (default: $EDGEFER_DATA)")
    if "detector" in shared:
        p.add_argument("--detector", default=None,
                       help="YuNet .onnx (default: $EDGEFER_DETECTOR, else the shipped one)")
    if "model" in shared:
        p.add_argument("--model", default=None,
                       help="exported model or shipped model name (default: the shipped "
                            "default, int8)")
    if "photo" in shared:
        p.add_argument("--photo", type=Path, default=None,
                       help=f"a real face photo (default: scikit-image's {PHOTO})")
    if "threads" in shared:
        p.add_argument("--threads", type=positive, default=threads,
                       help=f"threads (default: {threads or 'all cores'})")
    if "out" in shared:
        here = Path(script).resolve()
        stem = Path(out) if out is not None else here.with_suffix("")
        shown = stem.relative_to(here.parents[1]) if stem.is_relative_to(here.parents[1]) \
            else stem
        p.add_argument("--out", type=Path, default=stem,
                       help=f"output stem: writes STEM.md and STEM.json (default: {shown})")
    return p


def read_photo(path: Path | None) -> np.ndarray:
    """The BGR photo at `path`, or (None) scikit-image's astronaut photo."""
    import cv2

    if path is None:
        from edgefer.bench.recall import background_photos

        return background_photos((PHOTO,))[PHOTO]
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise BadArgumentError(f"cannot read a photo from {path}")
    return image


@dataclass
class Table:
    """Rows under named columns. `columns` maps each name to its format spec in markdown
    ("" for text, left-aligned; a spec such as ".3f" right-aligns the column); JSON keeps the
    raw values. `title`, where given, is a paragraph above the table."""

    columns: dict[str, str]
    rows: list[list[Cell]] = field(default_factory=list)
    title: str = ""

    def add(self, *cells: Cell | np.generic) -> str:
        """Append a row (numpy scalars become Python numbers); returns its markdown line."""
        if len(cells) != len(self.columns):
            raise ValueError(f"{len(cells)} cells for {len(self.columns)} columns")
        row = [c.item() if isinstance(c, np.generic) else c for c in cells]
        self.rows.append(row)
        return self.line(row)

    def line(self, row: list[Cell]) -> str:
        """One row in markdown: None as "-", each cell in its column's format."""
        return "| " + " | ".join("-" if c is None else format(c, spec) for c, spec
                                 in zip(row, self.columns.values(), strict=True)) + " |"

    def markdown(self) -> str:
        head = ["| " + " | ".join(self.columns) + " |",
                "|" + "".join("---:|" if spec else "---|" for spec in self.columns.values())]
        return "\n".join(([self.title, ""] if self.title else []) + head
                         + [self.line(r) for r in self.rows])


Block = str | Table
B = TypeVar("B", str, Table)


@dataclass
class Report:
    """What a benchmark script writes: a header line (the command that made the file and the
    machine it ran on), then prose paragraphs and tables in order; `figures` holds raw
    results that go to the JSON only."""

    command: str
    machine: dict
    date: str
    torch: bool = False  # name torch's version in the header (training benchmarks)
    blocks: list[Block] = field(default_factory=list)
    figures: dict = field(default_factory=dict)

    @classmethod
    def start(cls, command: str, torch: bool = False) -> Report:
        """An empty report on this machine, dated today."""
        return cls(command, machine_info(), datetime.date.today().isoformat(), torch)

    @property
    def header(self) -> str:
        line = machine_line(self.machine, date=self.date, torch=self.torch)
        return f"`{self.command}` on {line}."

    def add(self, block: B) -> B:
        """Append a paragraph or a table; returns it (a table to fill in as rows come)."""
        self.blocks.append(block)
        return block

    def markdown(self) -> str:
        return "\n\n".join([self.header] + [b if isinstance(b, str) else b.markdown()
                                            for b in self.blocks]) + "\n"

    def to_json(self) -> dict:
        return {"command": self.command, "machine": self.machine, "date": self.date,
                "torch": self.torch,
                "blocks": [b if isinstance(b, str) else {"table": asdict(b)}
                           for b in self.blocks], "figures": self.figures}

    @classmethod
    def from_json(cls, d: dict) -> Report:
        blocks = [b if isinstance(b, str) else Table(**b["table"]) for b in d["blocks"]]
        return cls(d["command"], d["machine"], d["date"], d["torch"], blocks, d["figures"])

    def write(self, stem: Path) -> tuple[Path, Path]:
        """Write STEM.md and STEM.json (a .md or .json ending on `stem` is dropped), each
        atomically; both texts are made first, so a report that cannot be made leaves the
        old files as they were."""
        md, js = output_paths(stem)
        texts = [(md, self.markdown()), (js, json.dumps(self.to_json(), indent=1) + "\n")]
        for path, text in texts:
            atomic_write_text(path, text)
        return md, js


def output_paths(stem: Path, *suffixes: str) -> list[Path]:
    """STEM.md, STEM.json and STEM with each of `suffixes` (a .md or .json ending on `stem`
    is dropped first)."""
    if stem.suffix in (".md", ".json"):
        stem = stem.with_suffix("")
    return [stem.with_name(stem.name + s) for s in (".md", ".json", *suffixes)]


def publish(report: Report, stem: Path) -> None:
    """Print the report's markdown, write STEM.md and STEM.json, and say where."""
    print(report.markdown(), flush=True)
    md, js = report.write(stem)
    print(f"wrote {md} and {js}")


def run(main: Callable[[], None]) -> None:
    """Run a script's `main`: a user error becomes one line on stderr and exit code 2,
    Ctrl-C exit code 130."""
    try:
        main()
    except EdgeferError as e:
        print(f"error: {first_line(e)}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
