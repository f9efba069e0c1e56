"""SNS message signatures: a message is AWS's only if SNS's key signed it.

The signature covers AWS's canonical string of the message ("Verifying the signatures
of Amazon SNS messages", https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html):
`Key\\nValue\\n` for each signed key in byte order. SignatureVersion 1 is SHA1withRSA,
2 is SHA256withRSA. The certificate comes only from `https://sns.<region>.amazonaws.com/…pem`
(or `.amazonaws.com.cn`): a message cannot name a key of its own. Certificates are kept
once fetched; the fetcher (blocking, production I/O) is handed in.

A signature proves SNS sent the message, not that it came from our topics or recently:
`topics` (when given) allow-lists the TopicArn, and a message signed longer ago than
`max_age` (or ahead of the clock by more than the skew) is refused, so an old genuine
bounce cannot be replayed onto a queue to close a lead.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import urllib.request
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# URL → PEM bytes; raises when the certificate cannot be had.
CertificateFetcher = Callable[[str], bytes]

_CONFIRMATION = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
_SIGNED: dict[str, tuple[str, ...]] = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": _CONFIRMATION,
    "UnsubscribeConfirmation": _CONFIRMATION,
}
# Signed only when the message has it (SNS leaves it out when the publisher set none).
_OPTIONAL = frozenset({"Subject"})
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
_CERT_HOST = re.compile(r"sns\.[a-z]{2}(?:-[a-z]+)+-\d+\.amazonaws\.com(?:\.cn)?")
# AWS rotates its signing certificates rarely; a few per region are plenty.
_CERTIFICATES_KEPT = 32
_CERTIFICATE_MAX_BYTES = 64 * 1024
# Clocks drift; SNS's Timestamp may run a little ahead of ours.
_CLOCK_SKEW = timedelta(minutes=15)


class SignatureInvalid(Exception):
    """The message is not provably from SNS; the message says why."""


class CertificateUnavailable(Exception):
    """SNS's certificate could not be fetched or read: worth trying again later."""


class SnsVerifier:
    """Checks SNS envelopes against SNS's certificates, fetched through `fetch` and kept."""

    def __init__(
        self,
        fetch: CertificateFetcher,
        *,
        topics: Collection[str] = (),
        max_age: timedelta | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._fetch = fetch
        self._topics = frozenset(topics)
        self._max_age = max_age
        self._clock = clock
        self._keys: OrderedDict[str, rsa.RSAPublicKey] = OrderedDict()
        self._fetching = asyncio.Lock()

    async def verify(self, envelope: Mapping[str, Any]) -> None:
        """Returns if SNS signed `envelope`; raises SignatureInvalid (or CertificateUnavailable)."""
        kind = envelope.get("Type")
        signed = _SIGNED.get(kind) if isinstance(kind, str) else None
        if signed is None:
            raise SignatureInvalid(f"SNS message type {kind!r} is not one SNS signs ({', '.join(_SIGNED)})")
        version = envelope.get("SignatureVersion")
        algorithm = _HASHES.get(version) if isinstance(version, str) else None
        if algorithm is None:
            raise SignatureInvalid(f"SignatureVersion {version!r} is not 1 (SHA1withRSA) or 2 (SHA256withRSA)")
        signature = _signature(envelope.get("Signature"))
        key = await self._key(_certificate_url(envelope.get("SigningCertURL")))
        try:
            key.verify(signature, _canonical(envelope, signed), padding.PKCS1v15(), algorithm())
        except InvalidSignature:
            raise SignatureInvalid(
                "the signature does not match the message: it was altered, or SNS did not sign it"
            ) from None
        self._check_topic(envelope.get("TopicArn"))
        self._check_age(envelope.get("Timestamp"))

    def _check_topic(self, topic: Any) -> None:
        if self._topics and topic not in self._topics:
            raise SignatureInvalid(
                f"signed by SNS but from topic {str(topic)[:300]!r}, not one of sns_topic_arns: "
                "add the topic to sns_topic_arns if it is yours"
            )

    def _check_age(self, timestamp: Any) -> None:
        if self._max_age is None:
            return
        try:
            signed_at = datetime.fromisoformat(str(timestamp))
        except ValueError:
            raise SignatureInvalid("the signed Timestamp is not an ISO 8601 time") from None
        if signed_at.tzinfo is None:
            raise SignatureInvalid("the signed Timestamp has no time zone")
        now = self._clock()
        if signed_at > now + _CLOCK_SKEW:
            raise SignatureInvalid(f"signed at {signed_at.isoformat()}, ahead of this host's clock: check its time")
        if now - signed_at > self._max_age:
            hours = self._max_age.total_seconds() / 3600
            raise SignatureInvalid(
                f"signed at {signed_at.isoformat()}, more than sns_max_age_hours ({hours:g}) ago: a replayed "
                "message, or a queue that kept it longer (then raise sns_max_age_hours)"
            )

    async def _key(self, url: str) -> rsa.RSAPublicKey:
        async with self._fetching:  # one fetch per certificate, however many messages wait for it
            key = self._keys.get(url)
            if key is None:
                try:
                    pem = await asyncio.to_thread(self._fetch, url)
                except Exception as err:
                    raise CertificateUnavailable(f"cannot fetch SNS's certificate {url}: {err}") from err
                key = self._keys[url] = _public_key(url, pem)
                if len(self._keys) > _CERTIFICATES_KEPT:
                    self._keys.popitem(last=False)
            else:
                self._keys.move_to_end(url)
            return key


def fetch_certificate(url: str) -> bytes:
    """The production fetcher: HTTPS with the system's roots (the URL is pinned before)."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read(_CERTIFICATE_MAX_BYTES + 1)


def _certificate_url(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise SignatureInvalid("the message has no SigningCertURL")
    parts = urlsplit(value)
    if (
        parts.scheme != "https"
        # The whole network location: no user, password or port to slip another host in.
        or not _CERT_HOST.fullmatch(parts.netloc)
        or not parts.path.endswith(".pem")
    ):
        raise SignatureInvalid(
            f"SigningCertURL {value[:200]!r} is not https://sns.<region>.amazonaws.com[.cn]/….pem: "
            "SNS did not send this message"
        )
    return value


def _signature(value: Any) -> bytes:
    if not isinstance(value, str) or not value:
        raise SignatureInvalid("the message has no Signature")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise SignatureInvalid("the Signature is not base64") from None


def _canonical(envelope: Mapping[str, Any], signed: tuple[str, ...]) -> bytes:
    lines: list[str] = []
    for name in signed:
        value = envelope.get(name)
        if value is None and name in _OPTIONAL:
            continue
        if not isinstance(value, str):
            raise SignatureInvalid(f"the signed field {name} is missing or not a string")
        lines.append(f"{name}\n{value}\n")
    return "".join(lines).encode("utf-8")


def _public_key(url: str, pem: bytes) -> rsa.RSAPublicKey:
    if len(pem) > _CERTIFICATE_MAX_BYTES:
        raise CertificateUnavailable(f"{url} is over {_CERTIFICATE_MAX_BYTES} bytes: not a certificate")
    try:
        key = x509.load_pem_x509_certificate(pem).public_key()
    except ValueError as err:
        raise CertificateUnavailable(f"{url} is not a PEM certificate: {err}") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise CertificateUnavailable(f"{url} holds a {type(key).__name__}, not the RSA key SNS signs with")
    return key
