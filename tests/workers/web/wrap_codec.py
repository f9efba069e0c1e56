"""A small payload codec for the web app's tests: it wraps each payload whole (its
metadata and data) as base64 under an encoding of its own, so a test can tell an encoded
payload from a plain one and prove the round trip. Not encryption."""

import base64
from collections.abc import Iterable

from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

WRAPPED = b"binary/touchpoint-test-wrapped"


class WrapCodec(PayloadCodec):
    async def encode(self, payloads: Iterable[Payload]) -> list[Payload]:
        return [
            Payload(metadata={"encoding": WRAPPED}, data=base64.b64encode(payload.SerializeToString()))
            for payload in payloads
        ]

    async def decode(self, payloads: Iterable[Payload]) -> list[Payload]:
        # What it did not wrap passes through, as the real codec treats older plain payloads.
        return [
            Payload.FromString(base64.b64decode(payload.data, validate=True))
            if payload.metadata.get("encoding") == WRAPPED
            else payload
            for payload in payloads
        ]
