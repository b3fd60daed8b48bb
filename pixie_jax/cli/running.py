"""How a command ends: the project's own errors and files it cannot read or write are one line,
``error: ...``, and exit 1; any other exception keeps its traceback, then one line that says where it came
from (a user's own file, an OSError) or that it is a bug (:func:`command`)."""

from __future__ import annotations

import functools
import sys
import traceback
from pathlib import Path

from pixie_jax.errors import ProjectError

BUG = (
    "error: the traceback above is a bug in pixie-jax, not a mistake in your input or settings; please report "
    "it with the command and the traceback"
)


def quiet():
    """Orbax logs through absl; keep only its warnings."""
    from absl import logging

    logging.set_verbosity(logging.WARNING)


def _expected(err: BaseException) -> bool:
    """The project's own errors, and an OSError that names its file (one the user can fix): one line."""
    return isinstance(err, ProjectError) or (isinstance(err, OSError) and bool(err.filename))


def _fail(err: BaseException):
    """One line, ``error: ...``, and exit 1: for the project's own errors (:class:`ProjectError`,
    :class:`pixie_jax.errors.InputError`) and files that cannot be read or written."""
    message = err.args[0] if isinstance(err, KeyError) and err.args else err
    if isinstance(err, OSError) and err.filename and err.strerror:
        message = f"{err.filename}: {err.strerror}"
    sys.exit(f"error: {message}")


def user_frame(err: BaseException):
    """The innermost frame of ``err``'s traceback (or of the exceptions it was raised from) in a user's own
    file (:data:`pixie_jax.errors.USER_FILES`), and whether it is the innermost frame of all; (None, False)
    where there is none."""
    from pixie_jax.errors import USER_FILES

    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        frames = traceback.extract_tb(err.__traceback__)
        for i in range(len(frames) - 1, -1, -1):
            if str(Path(frames[i].filename).resolve()) in USER_FILES:
                return frames[i], i == len(frames) - 1
        err = err.__cause__ or err.__context__
    return None, False


def _unexpected(err: BaseException) -> str:
    """The line after an unexpected exception's traceback: from a user's own file, an OSError, or a bug."""
    frame, innermost = user_frame(err)
    if frame is not None:
        how = "was raised in" if innermost else "was raised while running"
        return (
            f"error: the exception above {how} your own file {frame.filename}, line {frame.lineno} (in "
            f"{frame.name}): {type(err).__name__}: {err}"
        )
    if isinstance(err, OSError):
        return f"error: {type(err).__name__}: {err} (the traceback above says where)"
    return BUG


def command(main):
    """A command-line entry point: the project's own errors and files it cannot read or write
    (:func:`_expected`) are one line; any other exception keeps its traceback, followed by one line that
    says where it came from (a user's own file, an OSError) or that it is a bug."""

    @functools.wraps(main)
    def run(argv=None):
        try:
            return main(argv)
        except Exception as err:
            if _expected(err):
                _fail(err)
            traceback.print_exc()
            sys.exit(_unexpected(err))

    return run
