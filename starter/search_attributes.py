"""Register Touchpoint's custom search attributes on a real cluster (`touchpoint setup`).

The dev server gets them from `--search-attribute` flags; a self-hosted cluster needs
them added once per namespace through the operator service. Running this again is
harmless: attributes already there with the right type are left alone.
"""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from starter.errors import TouchpointError
from workflows import search_attributes as sa


async def register_search_attributes(client: Client, *, namespace: str) -> list[str]:
    """Add the missing attributes; returns the names added (empty when all were there)."""
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        existing = dict(listed.custom_attributes)
        wrong_type = [
            f"{key.name} is {IndexedValueType.Name(existing[key.name])}, needs "
            f"{IndexedValueType.Name(int(key.indexed_value_type))}"
            for key in sa.ALL
            if key.name in existing and existing[key.name] != int(key.indexed_value_type)
        ]
        if wrong_type:
            raise TouchpointError(
                f"search attributes in namespace {namespace!r} have the wrong type "
                f"({'; '.join(wrong_type)}): remove them or use another namespace"
            )
        missing = {key.name: int(key.indexed_value_type) for key in sa.ALL if key.name not in existing}
        if missing:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
            )
    except RPCError as error:
        if error.status == RPCStatusCode.ALREADY_EXISTS:
            # Another `setup` added them between our list and add: the goal is met.
            return []
        raise TouchpointError(
            f"cannot register search attributes in namespace {namespace!r}: {error.message} "
            "(on Temporal Cloud add them in the Cloud UI or with `tcld namespace search-attributes add`)"
        ) from error
    return sorted(missing)
