import pytest

from .pki import build_pki


@pytest.fixture(scope="session")
def pki():
    return build_pki()
