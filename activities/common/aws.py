"""boto3 clients for the activities, and what an AWS error says about retrying.

botocore retries on its own by default (up to 3 attempts in "standard" mode). Here it
makes one attempt only: Temporal retries the whole activity with its own backoff, and
a send retried inside botocore after a lost response would bypass the send ledger.
Note `total_max_attempts: 1`, not `max_attempts: 1`: botocore's `max_attempts` counts
retries *after* the first attempt, so `max_attempts: 1` would still send twice.
"""

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

_CLIENT_CONFIG = Config(
    retries={"total_max_attempts": 1, "mode": "standard"},
    # Well inside the activity's start-to-close timeout, so a hung call fails the attempt.
    connect_timeout=5,
    read_timeout=30,
)
THROTTLING_CODES = frozenset(
    {
        "TooManyRequestsException",
        "LimitExceededException",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "SlowDown",
    }
)
CREDENTIAL_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
    }
)


def aws_client(service: str, *, region: str, endpoint_url: str | None = None) -> Any:
    """A client with no botocore retries; `endpoint_url` only for tests and emulators.

    Each client gets its own session: boto3 sessions are not thread-safe, clients are.
    """
    return boto3.session.Session().client(
        service, region_name=region, endpoint_url=endpoint_url, config=_CLIENT_CONFIG
    )


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def error_message(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Message", "")) or str(err)


def http_status(err: ClientError) -> int:
    return int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def is_throttling(err: ClientError) -> bool:
    return error_code(err) in THROTTLING_CODES or http_status(err) == 429
