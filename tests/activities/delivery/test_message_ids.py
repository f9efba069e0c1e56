"""Our Message-IDs carry a keyed MAC of the send key, and each email records a keyed hash
of its recipient's address (never the address) in the ledger's recipient index."""

import email
import hashlib
import sqlite3
from collections.abc import Callable
from contextlib import closing
from email.message import Message
from email.policy import default
from pathlib import Path

from activities.common.tokens import address_key
from activities.content.config import ContentConfig
from activities.content.templates import TemplateRenderer
from activities.delivery.config import DeliveryConfig
from activities.delivery.email import EmailActivities, OutboxTransport
from activities.stores.ledger import SqliteSendLedger
from workflows.models import EnrollLead, TouchInput

SECRET = "9f2c4e7a1b3d5f60718293a4b5c6d7e8"


def send(
    tmp_path: Path,
    config: DeliveryConfig,
    renderer: TemplateRenderer,
    content: ContentConfig,
    touch: TouchInput,
    secret: str | None,
) -> tuple[Message, SqliteSendLedger]:
    config = config.model_copy(update={"token_secret": DeliveryConfig(token_secret=secret).token_secret})
    ledger = SqliteSendLedger(tmp_path / "ledger.sqlite3")
    EmailActivities(renderer, OutboxTransport(config.outbox_dir), content, config, ledger=ledger).send_email(touch)
    [path] = config.outbox_dir.iterdir()
    return email.message_from_bytes(path.read_bytes(), policy=default), ledger


def test_the_message_id_cannot_be_computed_from_the_send_key(
    tmp_path: Path,
    renderer: TemplateRenderer,
    content: ContentConfig,
    config: DeliveryConfig,
    example: EnrollLead,
    make_touch: Callable[..., TouchInput],
) -> None:
    touch = make_touch(example.lead, "follow-up", "day-1-case-study", context=example.context)

    message, ledger = send(tmp_path, config, renderer, content, touch, SECRET)

    message_id = str(message["Message-ID"])
    assert hashlib.sha256(touch.send_key.encode()).hexdigest()[:32] not in message_id
    assert message_id.startswith("<tp.") and ledger.send_for_message(message_id) == touch.send_key


def test_the_recipient_index_holds_a_keyed_hash_of_the_address_never_the_address(
    tmp_path: Path,
    renderer: TemplateRenderer,
    content: ContentConfig,
    config: DeliveryConfig,
    example: EnrollLead,
    make_touch: Callable[..., TouchInput],
) -> None:
    touch = make_touch(example.lead, "follow-up", "day-1-case-study", context=example.context)

    _, ledger = send(tmp_path, config, renderer, content, touch, SECRET)

    assert ledger.leads_for_recipient("email", address_key("Dana@Acme.example ", SECRET)) == ["crm-0042"]
    assert ledger.leads_for_recipient("email", hashlib.sha256(b"dana@acme.example").hexdigest()) == []
    ledger.close()
    assert b"dana@acme.example" not in b"".join(p.read_bytes() for p in tmp_path.glob("ledger.sqlite3*"))


def test_without_a_secret_the_id_is_a_plain_hash_and_no_address_is_indexed(
    tmp_path: Path,
    renderer: TemplateRenderer,
    content: ContentConfig,
    config: DeliveryConfig,
    example: EnrollLead,
    make_touch: Callable[..., TouchInput],
) -> None:
    touch = make_touch(example.lead, "follow-up", "day-1-case-study", context=example.context)

    message, ledger = send(tmp_path, config, renderer, content, touch, None)

    assert hashlib.sha256(touch.send_key.encode()).hexdigest()[:32] in str(message["Message-ID"])
    with closing(sqlite3.connect(ledger.path)) as db:
        assert db.execute("SELECT COUNT(*) FROM recipients").fetchone() == (0,)
