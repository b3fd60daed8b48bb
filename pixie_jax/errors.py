"""The project's own errors: expected failures whose message says what went wrong and what to do.

:class:`ProjectError` is their base (a lock, a download, a checkpoint, a non-finite loss, WordNet);
:class:`InputError` is bad input (a setting, an argument, a file's contents) and is also a
ValueError. The command-line tools print these as one line, ``error: ...``; any other exception,
from the project's code or a library's, is a bug and keeps its traceback."""


class ProjectError(RuntimeError):
    """An expected failure; the message is written for the user."""


class InputError(ProjectError, ValueError):
    """Bad input: a setting, an argument or a file the project cannot use; the message names it."""
