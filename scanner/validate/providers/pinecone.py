"""Pinecone: list the project's indexes (the key is project-scoped).

Docs: https://docs.pinecone.io/reference/api/2025-01/control-plane/list_indexes
"""

from scanner.validate.base import HttpCheck, header

VALIDATORS = [
    HttpCheck(
        provider="pinecone",
        rule_ids=("pinecone-api-key", "pinecone-api-key-legacy"),
        base="https://api.pinecone.io",
        path="/indexes",
        expect_path="indexes",
        auth=header("Api-Key"),
        extra_headers={"X-Pinecone-API-Version": "2025-01"},
        resources_path="indexes",
        resources_key="name",
    )
]
