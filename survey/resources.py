"""Where the package's own files are (questionnaires, reference data, the message catalogue), found without
importing anything heavy, so that the catalogue and the command line start fast.

:func:`data_path` is re-exported by :mod:`survey.reference`, where the reference data is read.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from .errors import SurveyError

__all__ = ["data_path", "ReferenceDataError"]

_PKG = "survey"


class ReferenceDataError(SurveyError):
    """A shipped or given reference file cannot be used as it is."""


def data_path(*parts: str) -> Path:
    """The path of a file or folder shipped inside the package, e.g. ``data_path("data", "targets")``.

    Found with :mod:`importlib.resources`, whatever the install (editable or not). The
    package must be installed as files (a zipped package is refused with a clear error:
    the questionnaires and data are read as files).
    """
    place = resources.files(_PKG)
    for part in parts:
        place = place.joinpath(part)
    if not isinstance(place, Path):
        raise ReferenceDataError(f"the package data '{'/'.join(parts)}' is not on the file system ({place!r})",
                                 code="reference.not_files", params={"name": "/".join(parts), "place": repr(place)},
                                 hint="install pgi-survey as files (pip install), not as a zip archive")
    return place
