"""An agency's own settings and images (seal, officials' signatures)."""
from .services import MAX_IMAGE_BYTES, AgencySettings, Box, set_seal_image, set_signature_image, update_settings  # noqa: F401
