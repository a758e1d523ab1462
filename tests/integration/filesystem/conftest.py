"""Fixtures for the filesystem crossing tests."""

from __future__ import annotations

import pytest
from filesystem_crossing import Keys, make_keys


@pytest.fixture(scope="session")
def keys() -> Keys:
    return make_keys()
