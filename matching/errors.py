"""Errors that services raise; views turn them into a clear message, the API into problem+json."""

from __future__ import annotations


class ServiceError(Exception):
    """A refused change. ``message`` is a sentence for the person who tried it."""

    status = 409

    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


class PermissionDenied(ServiceError):
    """The actor may not do this to this object."""

    status = 403


class TransitionError(ServiceError):
    """The object is not in a state that allows this change (any more)."""

    status = 409


class ChangedMeanwhile(ServiceError):
    """The change was made against an older version of the object (``If-Match`` in the API):
    saving it would undo what someone saved in between."""

    status = 412


class InvalidInput(ServiceError):
    """Input that passed the form but breaks a rule (e.g. an unknown code).

    ``field`` names the input the rule is about, when it is one field: the API lists it under
    ``errors`` and a form shows the message at that field.
    """

    status = 422

    def __init__(self, message, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
