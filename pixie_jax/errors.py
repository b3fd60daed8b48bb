"""The base of the project's own run-time failures (a lock, a download, a checkpoint, a non-finite
loss, WordNet): expected failures whose message says what to do. The command-line tools print them
as one line; other RuntimeErrors (from jax or XLA, say) keep their traceback."""


class ProjectError(RuntimeError):
    pass
