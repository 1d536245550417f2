"""The toolkit ("Werkzeugkoffer"): materials per phase, public by phase, curated by coordinators."""

# The feature's state changes, called by pages, the API and jobs alike.
from matching.toolkit.library import (  # noqa: F401
    MaterialInput,
    Upload,
    add_material,
    max_upload_bytes,
    megabytes,
    remove,
    review,
    update_material,
    visible_to,
)
