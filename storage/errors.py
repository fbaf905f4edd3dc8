"""Exceptions storage raises, shared by its modules so callers catch one family, not SQLAlchemy's."""


class StorageError(RuntimeError):
    """The database cannot be used (locked, read-only, unreachable); the message names it and why."""


class TransientStorageError(StorageError):
    """A fault that passes: another process holds the write lock too long, or the disk is full or
    failed a write. The same step may succeed when tried again; nothing of it was stored."""


class NotFound(LookupError):
    """A recording, transcript, speaker or job that the caller named does not exist."""


class AmbiguousReference(ValueError):
    """A user's reference (name, hash prefix) matches more than one recording."""


class InvalidValue(ValueError):
    """A value a user supplied (a role, a job to retry) that storage cannot accept as given."""


class PermissionDenied(PermissionError):
    """The signed-in user's role does not allow what they asked for, or the item is not theirs."""


class SignInFailed(PermissionDenied):
    """Unknown user, wrong password, or a deactivated account; the message does not say which of the
    first two, so sign-in cannot be used to find out who has an account."""
