"""Registry write services: the only code that changes registry records."""

from .registration import (
    GeneratorSpec,
    RegistrationResult,
    SourceSpec,
    dataset_version_register,
    find_registered_duplicate,
)

__all__ = [
    "GeneratorSpec",
    "RegistrationResult",
    "SourceSpec",
    "dataset_version_register",
    "find_registered_duplicate",
]
