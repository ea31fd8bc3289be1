"""edgefer's exceptions: each one a problem stated in one line, which the CLI prints as
`error: ...` with a non-zero exit.

The subclasses are also the built-in exceptions Python users already catch, so
`except FileNotFoundError` and `except ValueError` work around edgefer calls as around any
other library's.
"""


class EdgeferError(Exception):
    """A problem with the user's input or environment, stated in one line."""


class MissingFileError(EdgeferError, FileNotFoundError):
    """A file or folder that was named does not exist: a model, detector, image or video."""


class BadArgumentError(EdgeferError, ValueError):
    """An argument outside what it accepts: a threshold, a size, a source of the wrong kind."""


class MissingDependencyError(EdgeferError, ImportError):
    """An optional package the call needs is not installed (the message names the extra)."""


def installed(module: str) -> bool:
    """Whether an optional dependency can be imported (without importing it)."""
    import importlib.util

    return importlib.util.find_spec(module) is not None


def require(module: str, extra: str = "train") -> None:
    """Fail clearly when an optional dependency of an extra is not installed."""
    if not installed(module):
        raise MissingDependencyError(
            f"this command needs '{module}', which is not installed: "
            f"pip install 'edgefer[{extra}]' (see constraints.txt for pinned versions)"
        )


def first_line(e: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message (a library's multi-line error, in brief)."""
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:limit]
