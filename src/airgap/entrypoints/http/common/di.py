"""How handlers ask for what the app provides by name.

``Injected[T]`` marks a parameter as the dependency of that name (Litestar 3 will not infer
it) and skips validating the value: dependencies are ports (protocols, which cannot be
checked with ``isinstance``) built by the composition root, not caller input -- and not
checking them costs nothing per request.
"""

from __future__ import annotations

from typing import Annotated, TypeAlias, TypeVar

from litestar.di import Dependency
from litestar.params import SkipValidationMarker

T = TypeVar("T")

Injected: TypeAlias = Annotated[T, Dependency(kind="named"), SkipValidationMarker()]
