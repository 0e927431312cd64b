"""The exceptions cascade raises itself; a task's own exception is always re-raised unchanged."""


class CascadeError(Exception):
    """Base class of every error raised by cascade itself."""


class DefinitionError(CascadeError, TypeError):
    """A workflow is built wrongly (bad arguments, bad options); raised before anything runs."""


class RoutingError(CascadeError, KeyError):
    """A Router's selector picked a key that is not one of its routes."""

    def __str__(self) -> str:
        # KeyError quotes its message; show it as a plain sentence instead.
        return str(self.args[0]) if self.args else ""


class ResourceNotFoundError(CascadeError, LookupError):
    """A task needs a resource that was never registered on the engine."""


class ResourceError(CascadeError):
    """A resource definition misbehaved (did not yield, yielded twice, is not a generator)."""


class TargetSkippedError(CascadeError):
    """The run's target was skipped, so the run has no result to return."""


class CapacityError(CascadeError):
    """A task asks for more of a system resource than the engine has, or for one it lacks."""
