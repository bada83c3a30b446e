"""The OpenAPI description of /api/v1, served at /api/v1/openapi.json."""

from __future__ import annotations

from .submissions import NOTES_MAX, TEXT_MAX, URL_MAX


def _error(
    *codes: str, reason: bool = False, fields: bool = False, scopes: bool = False
) -> dict:
    properties = {
        "error": {"type": "string", "enum": list(codes)},
        "message": {"type": "string"},
    }
    if reason:
        properties["reason"] = {
            "type": "string",
            "enum": ["revoked", "expired", "paused", "rotated"],
        }
    if scopes:
        properties["required_scopes"] = {"type": "array", "items": {"type": "string"}}
        properties["ip"] = {"type": "string", "nullable": True}
        properties["origin"] = {"type": "string", "nullable": True}
    if fields:
        properties["fields"] = {
            "type": "object",
            "additionalProperties": {"type": "string"},
        }
    return {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": properties,
                    "additionalProperties": False,
                }
            }
        }
    }


def _described(description: str, body: dict) -> dict:
    return {"description": description, **body}


_TEMPLATE = {
    "oneOf": [
        {
            "type": "object",
            "required": ["id", "name"],
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
            "additionalProperties": False,
        },
        {"type": "null"},
    ]
}
_TIME = {"type": "string", "format": "date-time"}
# Text the server accepts: no control characters (tab and line breaks aside) and
# no text-direction overrides.
_TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f\\u202a-\\u202e\\u2066-\\u2069]*$"
_EXPIRES_HEADER = {
    "X-PAT-Expires-At": {
        "description": "The PAT's expiry (RFC 3339, UTC), or `none`.",
        "schema": {"type": "string"},
    }
}
_RATE_LIMITED = _described(
    "Too many requests; wait the number of seconds in Retry-After.",
    {
        **_error("rate_limited"),
        "headers": {
            "Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}}
        },
    },
)
_UNAUTHORIZED = _described(
    "Invalid PAT token: missing, malformed, unknown, revoked, expired, paused, or"
    " an old token after its rotation overlap.",
    _error("invalid_token", reason=True),
)
_FORBIDDEN = _described(
    "The PAT works but may not make this call: from this network, from this"
    " browser extension, or without the scope the call needs.",
    _error("ip_not_allowed", "origin_not_allowed", "insufficient_scope", scopes=True),
)
_PAT_REF = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
}
# A submission as POST answers it; the list adds needs_template, and its PAT may
# be gone (deleted with its account's data) where the new one always has one.
_SUBMISSION = {
    "type": "object",
    "required": ["id", "url", "template", "pat", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "url": {"type": "string"},
        "title": {"type": "string", "nullable": True},
        "company": {"type": "string", "nullable": True},
        "notes": {"type": "string", "nullable": True},
        "template": _TEMPLATE,
        "pat": _PAT_REF,
        "created_at": _TIME,
        "duplicate_of": {
            "type": "integer",
            "nullable": True,
            "description": "The account's latest submission of the same job in the"
            " last 30 days.",
        },
    },
}
_LISTED_SUBMISSION = {
    **_SUBMISSION,
    "required": [*_SUBMISSION["required"], "needs_template"],
    "properties": {
        **_SUBMISSION["properties"],
        "needs_template": {"type": "boolean"},
        # The name it was made with; its id is null once that template is deleted.
        "template": {
            "type": "object",
            "nullable": True,
            "required": ["id", "name"],
            "properties": {
                "id": {"type": "integer", "nullable": True},
                "name": {"type": "string"},
            },
        },
        "pat": {**_PAT_REF, "nullable": True},
    },
}

SPEC = {
    "openapi": "3.0.3",
    "info": {
        "title": "pat-manager extension API",
        "version": "1",
        "description": "What the browser extension calls with `Authorization: Bearer <PAT>`.",
    },
    "servers": [{"url": "/api/v1"}],
    "components": {
        "securitySchemes": {"pat": {"type": "http", "scheme": "bearer"}},
    },
    "security": [{"pat": []}],
    "paths": {
        "/token": {
            "get": {
                "summary": "Describe the PAT that makes the call",
                "operationId": "getToken",
                "responses": {
                    "200": {
                        "description": "The PAT and its account.",
                        "headers": _EXPIRES_HEADER,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["pat", "account"],
                                    "properties": {
                                        "pat": {
                                            "type": "object",
                                            "required": [
                                                "id",
                                                "name",
                                                "expires_at",
                                                "template",
                                            ],
                                            "properties": {
                                                "id": {"type": "integer"},
                                                "name": {"type": "string"},
                                                "expires_at": {
                                                    **_TIME,
                                                    "nullable": True,
                                                },
                                                "template": _TEMPLATE,
                                                "template_choice": {
                                                    "type": "string",
                                                    "enum": [
                                                        "default",
                                                        "custom",
                                                        "none",
                                                    ],
                                                },
                                                "template_status": {
                                                    "type": "string",
                                                    "enum": ["ok", "not_found"],
                                                },
                                                "scopes": {
                                                    "type": "array",
                                                    "items": {"type": "string"},
                                                },
                                                "allowed_networks": {
                                                    "type": "array",
                                                    "items": {"type": "string"},
                                                },
                                                "allowed_origin": {
                                                    "type": "string",
                                                    "nullable": True,
                                                },
                                                "rotation_days": {
                                                    "type": "integer",
                                                    "nullable": True,
                                                },
                                                "old_token": {
                                                    "type": "boolean",
                                                    "description": "The call used a "
                                                    "token a rotation replaced; it "
                                                    "stops at the end of the overlap.",
                                                },
                                            },
                                        },
                                        "account": {
                                            "type": "object",
                                            "required": ["email"],
                                            "properties": {"email": {"type": "string"}},
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "401": _UNAUTHORIZED,
                    "403": _FORBIDDEN,
                    "429": _RATE_LIMITED,
                },
            }
        },
        "/submissions": {
            "get": {
                "summary": "List the account's submissions, newest first (submissions:read)",
                "operationId": "listSubmissions",
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                    },
                    {
                        "name": "cursor",
                        "in": "query",
                        "required": False,
                        "description": "next_cursor from the previous page.",
                        "schema": {"type": "string", "maxLength": 40},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "One page, and the cursor of the next (null: last page).",
                        "headers": _EXPIRES_HEADER,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["submissions", "next_cursor"],
                                    "properties": {
                                        "submissions": {
                                            "type": "array",
                                            "items": _LISTED_SUBMISSION,
                                        },
                                        "next_cursor": {
                                            "type": "string",
                                            "nullable": True,
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "401": _UNAUTHORIZED,
                    "403": _FORBIDDEN,
                    "422": _described(
                        "The limit or cursor is not valid.",
                        _error("validation_error", fields=True),
                    ),
                    "429": _RATE_LIMITED,
                },
            },
            "post": {
                "summary": "Record a job application",
                "operationId": "createSubmission",
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "description": "Repeat a request safely: the same key and body within "
                        "24 hours return the first answer and store nothing new.",
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["url"],
                                "properties": {
                                    "url": {
                                        "type": "string",
                                        "format": "uri",
                                        "maxLength": URL_MAX,
                                        "description": "Absolute http(s) address of the job.",
                                    },
                                    "title": {
                                        "type": "string",
                                        "maxLength": TEXT_MAX,
                                        "pattern": _TEXT_PATTERN,
                                        "nullable": True,
                                    },
                                    "company": {
                                        "type": "string",
                                        "maxLength": TEXT_MAX,
                                        "pattern": _TEXT_PATTERN,
                                        "nullable": True,
                                    },
                                    "notes": {
                                        "type": "string",
                                        "maxLength": NOTES_MAX,
                                        "pattern": _TEXT_PATTERN,
                                        "nullable": True,
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": {
                        "description": "Stored.",
                        "headers": _EXPIRES_HEADER,
                        "content": {"application/json": {"schema": _SUBMISSION}},
                    },
                    "400": _described(
                        "The body is not valid JSON or could not be read.",
                        _error("malformed_json", "bad_request"),
                    ),
                    "401": _UNAUTHORIZED,
                    "403": _FORBIDDEN,
                    "409": _described(
                        "The Idempotency-Key was used with another body.",
                        _error("idempotency_conflict"),
                    ),
                    "413": _described(
                        "The body is over 64 KiB.", _error("payload_too_large")
                    ),
                    "415": _described(
                        "The body is not JSON.", _error("unsupported_media_type")
                    ),
                    "422": _described(
                        "A field is not valid, or the PAT's CV template is not found.",
                        _error("validation_error", "template_not_found", fields=True),
                    ),
                    "429": _RATE_LIMITED,
                },
            },
        },
        "/submissions/check": {
            "get": {
                "summary": "Has the account already submitted this job?",
                "operationId": "checkSubmission",
                "parameters": [
                    {
                        "name": "url",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "maxLength": URL_MAX},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "How often, and the latest time and PAT.",
                        "headers": _EXPIRES_HEADER,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": [
                                        "submitted",
                                        "count",
                                        "normalized_url",
                                        "last",
                                    ],
                                    "properties": {
                                        "submitted": {"type": "boolean"},
                                        "count": {"type": "integer"},
                                        "normalized_url": {"type": "string"},
                                        "last": {
                                            "nullable": True,
                                            "type": "object",
                                            "required": ["id", "created_at", "pat"],
                                            "properties": {
                                                "id": {"type": "integer"},
                                                "created_at": _TIME,
                                                "pat": {
                                                    "nullable": True,
                                                    "type": "object",
                                                    "properties": {
                                                        "id": {"type": "integer"},
                                                        "name": {"type": "string"},
                                                    },
                                                },
                                            },
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "401": _UNAUTHORIZED,
                    "403": _FORBIDDEN,
                    "422": _described(
                        "The url is missing or not an absolute http(s) URL.",
                        _error("validation_error", fields=True),
                    ),
                    "429": _RATE_LIMITED,
                },
            }
        },
    },
}
