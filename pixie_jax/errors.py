"""The project's own errors: expected failures whose message says what went wrong and what to do.

:class:`ProjectError` is their base (a lock, a download, a checkpoint, a non-finite loss, WordNet);
:class:`InputError` is bad input (a setting, an argument, a file's contents) and is also a
ValueError. The command-line tools print these as one line, ``error: ...``; any other exception keeps
its traceback, and is called a bug in pixie-jax unless it came from a user's own file (:data:`USER_FILES`)."""

from pathlib import Path

# the files of a user's own code that this process ran: config files and model files loaded by path or
# module name (resolved paths); an exception raised in one is the user's, not the project's
USER_FILES: set[str] = set()


def add_user_file(path) -> None:
    """Count ``path`` as a user's own file (:data:`USER_FILES`)."""
    USER_FILES.add(str(Path(path).resolve()))


class ProjectError(RuntimeError):
    """An expected failure; the message is written for the user."""


class InputError(ProjectError, ValueError):
    """Bad input: a setting, an argument or a file the project cannot use; the message names it."""
