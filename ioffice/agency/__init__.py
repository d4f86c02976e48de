"""An agency's own settings and images (seal, officials' signatures)."""
from .services import Box, MAX_IMAGE_BYTES, AgencySettings, update_settings, set_seal_image, set_signature_image  # noqa: F401
