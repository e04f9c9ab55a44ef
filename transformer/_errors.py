"""The exception tree of the transformation pipeline.

Every failure of one job is one of these; its class decides the status code and the statTags the
router sees, never its message text. Foreign errors (a bug in a hook, a bad JSON document) are
translated into these at one place: ``transformer._pipeline``.

    TransformerError
    ├── InstrumentationError     400  the event lacks or misuses a field
    ├── ConfigurationError       400  the destination config is missing or wrong
    │   └── ConfigurationAuthError    400  ... its credentials in particular
    ├── TransformationError      400  the mapping could not produce a request
    ├── UnsupportedDestination   400  no destination of that type is installed
    ├── FilteredEvent            298  dropped on purpose
    ├── PlatformError            500  our fault; retry
    │   └── UnexpectedError      500  a bug in destination code (fixed by a deploy, so retry)
    └── RetryableError           500  a transient fault; retry
"""

from __future__ import annotations

from typing import ClassVar


class TransformerError(Exception):
    """A job could not be transformed; ``str(error)`` is the message the router shows."""

    status_code: ClassVar[int] = 400
    error_category: ClassVar[str] = "transformation"
    error_type: ClassVar[str] = ""
    #: Further statTags this kind of error carries.
    extra_tags: ClassVar[tuple[tuple[str, str], ...]] = ()

    #: statTags of this kind are only ``errorCategory`` (the reference loses the rest for
    #: runtime errors of its scripts).
    bare_tags: ClassVar[bool] = False

    def __init__(self, message: str, *, step: str = "") -> None:
        super().__init__(message)
        self.message = message
        #: The named step of a workflow-style destination (``implementation: cdkV2``) that failed;
        #: processor-mode messages name it as the reference does.
        self.step = step

    def processor_message(self, implementation: str) -> str:
        if self.step and implementation == "cdkV2":
            return (f"{self.message}: Workflow: procWorkflow, Step: {self.step}, "
                    f"ChildStep: undefined, OriginalError: {self.message}")
        return self.message


class InstrumentationError(TransformerError):
    error_category = "dataValidation"
    error_type = "instrumentation"


class ConfigurationError(TransformerError):
    error_category = "dataValidation"
    error_type = "configuration"


class ConfigurationAuthError(ConfigurationError):
    extra_tags = (("meta", "accessTokenExpired"),)


class TransformationError(TransformerError):
    error_category = "transformation"
    error_type = ""


class UnsupportedDestination(ConfigurationError):
    pass


class FilteredEvent(TransformerError):
    status_code = 298
    error_category = ""
    error_type = ""


class SourceKeyError(TransformerError):
    """The reference's getValueFromMessage refusing a source key that is no string: its
    PlatformError, answered as a 400 tagged "platform" (the key comes from the config or the
    event, so retrying cannot help)."""

    error_category = "platform"
    error_type = ""

    def __init__(self, message: str = "Wrong sourceKey type or blank sourceKey array", *,
                 step: str = "") -> None:
        super().__init__(message, step=step)


class PlatformError(TransformerError):
    status_code = 500
    error_category = "platform"
    error_type = ""


class RetryableError(TransformerError):
    status_code = 500
    error_category = "network"
    error_type = "retryable"


class UnexpectedError(PlatformError):
    """Destination code failed in a way it did not mean to (a bug, or the reference's own runtime
    error reproduced on purpose); tagged as the reference tags its script errors."""

    error_category = "transformation"
    bare_tags = True
