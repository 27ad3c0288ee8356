"""Retrying what the store or network got wrong: which errors count as
transient (:func:`is_transient`) and how long to wait between tries
(:class:`RetryPolicy`). Shared by downloads (:mod:`tether.fetcher`), hashing
(:mod:`tether.hashing`) and reading in place (:mod:`tether.fsread`)."""

from __future__ import annotations

import random
import time

import attrs

from . import config
from .errors import StorageError, TetherError


@attrs.frozen
class RetryPolicy:
    """How transient failures are retried: ``attempts`` tries in all, sleeping
    ``base_delay * 2**n`` (capped at ``max_delay``, with jitter) in between.
    Defaults come from ``TETHER_RETRY_ATTEMPTS`` / ``TETHER_RETRY_BASE_DELAY``."""

    attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 5.0

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """The policy the environment sets; a value that is not a number in range
        is a ConfigError naming the variable, not a silent default."""
        return cls(attempts=config.int_setting("retry_attempts", 5, minimum=1),
                   base_delay=config.float_setting("retry_base_delay", 0.2, minimum=0.0))

    def sleep(self, attempt: int) -> None:
        delay = min(self.max_delay, self.base_delay * (2 ** attempt))
        time.sleep(delay * (0.5 + random.random() / 2))


def is_transient(exc: BaseException) -> bool:
    """Errors worth another try: the store or network hiccuped, nothing was wrong
    with the request itself."""
    if isinstance(exc, StorageError):
        return True
    if isinstance(exc, TetherError):
        return False
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)):
        return False
    return isinstance(exc, (OSError, ConnectionError, TimeoutError)) or type(exc).__name__ in {
        "ClientPayloadError", "ServerDisconnectedError", "ReadTimeoutError", "IncompleteRead",
        "ResponseStreamingError", "ConnectionClosedError", "EndpointConnectionError", "HttpError",
    }
