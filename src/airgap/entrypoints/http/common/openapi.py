"""The OpenAPI document at ``/schema`` (JSON at ``/schema/openapi.json``) with interactive
docs (Swagger UI at ``/schema/swagger``, Scalar at ``/schema``), titles, tags and the
security schemes: ``bearer`` (JWT access token), ``apiKey`` (``X-API-Key``) and the OAuth2
password flow against the login endpoint."""

from __future__ import annotations

from collections.abc import Sequence

from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    OAuthFlow,
    OAuthFlows,
    Reference,
    SecurityRequirement,
    SecurityScheme,
    Tag,
)

BEARER = "bearer"
API_KEY = "apiKey"
OAUTH2 = "oauth2"

AUTHENTICATED: list[SecurityRequirement] = [{BEARER: []}, {API_KEY: []}]
"""For ``security=``: either a bearer token or an API key."""


def openapi_config(
    *,
    title: str,
    version: str,
    description: str,
    tags: Sequence[Tag] = (),
    token_url: str | None = None,
) -> OpenAPIConfig:
    schemes: dict[str, SecurityScheme | Reference] = {
        BEARER: SecurityScheme(
            type="http",
            scheme="bearer",
            bearer_format="JWT",
            description="An access token from the login endpoint (valid 1 hour).",
        ),
        API_KEY: SecurityScheme(
            type="apiKey",
            name="X-API-Key",
            security_scheme_in="header",
            description="An API key (shown once when created), limited to its scopes.",
        ),
    }
    if token_url is not None:
        schemes[OAUTH2] = SecurityScheme(
            type="oauth2",
            description="Sign in with a username and password (OAuth2 password flow).",
            flows=OAuthFlows(password=OAuthFlow(token_url=token_url, scopes={})),
        )
    return OpenAPIConfig(
        title=title,
        version=version,
        description=description,
        tags=list(tags),
        components=Components(security_schemes=schemes),
        path="/schema",
        render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(), JsonRenderPlugin()],
        use_handler_docstrings=True,
    )
