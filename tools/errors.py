"""The MagnetError family: problems a user can cause, shown as one line by the CLI.

Library code raises these and never prints or exits; `magnet.agent.cli.main` turns them into
`Error: <message>` on stderr and exit code 1. Anything else is a bug and keeps its traceback.
"""


class MagnetError(Exception):
    """Base of every error whose message is shown to users as is."""


class DatasetError(MagnetError):
    """A dataset is unknown, empty, corrupt or has the wrong columns; shown to users."""


class ConfigError(MagnetError):
    """A configuration value or override is invalid; shown to users."""


class RunDirError(MagnetError):
    """A run directory is missing, incomplete or already complete; shown to users."""


class SandboxError(MagnetError):
    """An experiment could not be started in the requested sandbox; shown to users."""


class MemoryStoreError(MagnetError):
    """The findings store or its embedding model cannot be used; shown to users."""


class SessionNotFound(MagnetError):
    """No research session has the given id; shown to users."""


class AlreadyAnswered(SessionNotFound):
    """The card (or the stopped session) was claimed by another answer first."""


class UnsupportedGoal(MagnetError):
    """The goal names nothing MAGNET can train; shown to users with what is supported."""


class MergeError(MagnetError):
    """Models cannot be merged (different architectures or shapes); shown to users."""


class DistributedError(MagnetError):
    """A distributed run could not start or a worker failed; shown to users."""


class ChainError(MagnetError):
    """A chain cannot be reached or refuses a record; shown to users (never with a key)."""


class ExportError(MagnetError):
    """A model that cannot be exported as asked, or a server that cannot start."""


def first_problem(e, nothing: str = "value", hide: tuple[str, ...] = ()) -> str:
    """A pydantic ValidationError as one line, `field.path: message`, from its first error;
    `hide` drops path parts a user never typed (e.g. "model"). Other errors: their text."""
    errors = getattr(e, "errors", None)
    if not callable(errors):
        return str(e)
    err = errors()[0]
    loc = [str(p) for p in err["loc"]]
    where = ".".join(p for p in loc if p not in hide) or ".".join(loc) or nothing
    return f"{where}: {err['msg'].removeprefix('Value error, ')}"


class LlmError(MagnetError):
    """The planner LLM cannot be used (unreachable, refusing, or answering nonsense); shown
    to users."""
