"""A saved picture's settings as ImageRequest fields, whatever wrote it: the studio (its exact
request), Fooocus (its own JSON scheme or its A1111 one) or A1111 (studio.pictures.metadata
reads them); styles this studio does not have are left out with a note.

    found = metadata.read_parameters(path)
    fields, notes = request_fields(found, settings_styles_folder)   # -> the form, or ImageRequest(**fields)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.image import styles
from studio.image.request import ImageRequest
from studio.pictures import metadata


def request_fields(found: dict[str, Any], styles_folder: Path | None = styles.DEFAULT_FOLDER
                   ) -> tuple[dict[str, Any], list[str]]:
    """The fields of what ``metadata.read_parameters`` found, and notes on what could not be used."""
    if "studio" in found:
        return ImageRequest.from_parameters(found["studio"]["request"]).parameters(), []
    return metadata.request_fields_from_a1111(found["a1111"], styles.available(styles_folder))
