"""The JSON API under /api/v1 with its OpenAPI document, and the page for API tokens."""
