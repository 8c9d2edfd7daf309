"""Errors raised by the dataset converters.

Every error names the file (or folder) at fault and, where there is one, the
offending id or field, so that a conversion of thousands of files points
straight at the bad one.
"""


class DatasetConversionError(Exception):
    """Base class of the errors of converting or validating a dataset."""


class MissingInputError(DatasetConversionError):
    """A folder or file the conversion needs is missing (or empty)."""


class MismatchedFilesError(DatasetConversionError):
    """Images and annotations do not pair up (one lacks the other)."""


class BadIdError(DatasetConversionError):
    """A pixel value, segment id or category id the dataset lacks."""


class InvalidAnnotationError(DatasetConversionError):
    """A malformed annotation: a missing field, wrong size, duplicate id."""
