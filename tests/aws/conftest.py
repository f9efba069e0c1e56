"""AWS for tests: moto in server mode on loopback, reached by real boto3 calls through
`endpoint_url`, exactly as production code reaches AWS."""

import socket
from collections.abc import Iterator

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


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
