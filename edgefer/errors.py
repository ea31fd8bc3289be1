"""The one exception type the CLI turns into a one-line error and a non-zero exit."""


class EdgeferError(Exception):
    """A problem with the user's input or environment, stated in one line."""


def installed(module: str) -> bool:
    """Whether an optional dependency can be imported (without importing it)."""
    import importlib.util

    return importlib.util.find_spec(module) is not None


def require(module: str, extra: str = "train") -> None:
    """Fail clearly when an optional dependency of an extra is not installed."""
    if not installed(module):
        raise EdgeferError(
            f"this command needs '{module}', which is not installed: "
            f"pip install 'edgefer[{extra}]' (see constraints.txt for pinned versions)"
        )


def first_line(e: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message (a library's multi-line error, in brief)."""
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:limit]
