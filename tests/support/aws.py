"""AWS for tests: the session's moto server (`moto_endpoint`, tests/conftest.py), reached by
real boto3 calls through `endpoint_url`, exactly as production code reaches AWS."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests

from activities.common.aws import aws_client as make_aws_client
from tests.support.email_support import REGION, SesWire, set_up_sender


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A clean moto account per test; fake credentials so nothing can reach real AWS."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()
    yield moto_endpoint


@pytest.fixture
def wire() -> SesWire:
    return SesWire()


@pytest.fixture
def ses(aws: str, wire: SesWire) -> Any:
    """An SES v2 client on moto, through `wire`, with the sender set up."""
    return set_up_sender(wire.attach(make_aws_client("sesv2", region=REGION, endpoint_url=aws)))


@pytest.fixture
def aws_client(aws: str):
    """`aws_client("sesv2")`: a boto3 client bound to the moto server."""

    def make(service: str, **kwargs):
        return boto3.client(service, region_name=REGION, endpoint_url=aws, **kwargs)

    return make


def queued(sqs, url: str) -> int:
    """Messages in the queue, visible or in flight (a consumer holds them)."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return sum(int(value) for value in attributes.values())
