"""Texts through SNS reach only consenting, not-opted-out numbers, as moto records them."""

from typing import Any

import boto3
import pytest
import requests
from botocore.stub import Stubber
from temporalio.exceptions import ApplicationError

from activities.common.aws import aws_client as make_aws_client
from activities.content.cadences import CadenceStore, touch_steps
from activities.content.config import ContentConfig
from activities.content.templates import TemplateRenderer
from activities.delivery.config import SnsSmsConfig
from activities.delivery.errors import DELIVERY_DEFERRED, DELIVERY_REJECTED, DeliveryRejected
from activities.delivery.sms import OutgoingSms, SmsActivities
from activities.delivery.sns_sms import SnsSmsTransport
from workflows.models import Lead, TouchInput

REGION = "us-east-1"  # the region of the aws fixture
# moto answers "opted out" for every number ending in 99.
OPTED_OUT_NUMBER = "+13125550199"


@pytest.fixture
def sns(aws: str) -> Any:
    return make_aws_client("sns", region=REGION, endpoint_url=aws)


@pytest.fixture
def published(sns: Any) -> list[dict[str, Any]]:
    """The parameters of every Publish call, as boto3 sends them."""
    calls: list[dict[str, Any]] = []
    sns.meta.events.register("provide-client-params.sns.Publish", lambda params, **_: calls.append(dict(params)))
    return calls


def texts(sns: Any, sms_config: SnsSmsConfig) -> SmsActivities:
    return SmsActivities(TemplateRenderer(), SnsSmsTransport(sns, sms_config), ContentConfig())


def touch(lead: Lead) -> TouchInput:
    cadence = CadenceStore().get("dunning")
    step = next(s for s in touch_steps(cadence) if s.key == "day-7-text-reminder")
    return TouchInput(
        send_key=f"{lead.id}:00003:{step.key}",
        lead=lead,
        context={"amount": "$1,200.00"},
        cadence=cadence.ref,
        mode=cadence.mode,
        step=step,
    )


def lead(phone: str | None = "+13125550142", *, consent: bool = True) -> Lead:
    return Lead(id="crm-0042", email="dana@acme.example", first_name="Dana", phone=phone, sms_consent=consent)


def moto_sms(endpoint: str) -> list[dict[str, Any]]:
    """The texts moto's SNS recorded, from the moto server's data API."""
    data = requests.get(f"{endpoint}/moto-api/data.json", timeout=10).json()
    return data.get("sns", {}).get("SMS", [])


def test_text_is_published_to_the_leads_number_with_the_sms_attributes(
    sns: Any, published: list[dict[str, Any]], aws: str, tmp_path
) -> None:
    sms_config = SnsSmsConfig(
        region=REGION, sender_id="Harborview", origination_number="+18005550100", max_price_usd=0.5
    )

    result = texts(sns, sms_config).send_sms(touch(lead()))

    assert result.status == "sent"
    [recorded] = moto_sms(aws)
    assert recorded["message_id"] == result.message_id
    assert recorded["phone_number"] == "+13125550142"
    assert "$1,200.00" in recorded["message"] and recorded["message"].endswith("Reply STOP to opt out.")
    [call] = published
    assert call["MessageAttributes"] == {
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": "Harborview"},
        "AWS.MM.SMS.OriginationNumber": {"DataType": "String", "StringValue": "+18005550100"},
        "AWS.SNS.SMS.MaxPrice": {"DataType": "Number", "StringValue": "0.50000"},
    }


def test_a_transport_built_from_config_alone_texts_through_its_endpoint(aws: str, tmp_path) -> None:
    sms_config = SnsSmsConfig(region=REGION, endpoint_url=aws)
    activity = SmsActivities(TemplateRenderer(), SnsSmsTransport.from_config(sms_config), ContentConfig())

    result = activity.send_sms(touch(lead()))

    assert [sms["message_id"] for sms in moto_sms(aws)] == [result.message_id]
    assert not (tmp_path / "unused.jsonl").exists()


def test_lead_without_consent_is_skipped_and_nothing_is_published(sns: Any, aws: str, tmp_path) -> None:
    result = texts(sns, SnsSmsConfig(region=REGION)).send_sms(touch(lead(consent=False)))

    assert (result.status, result.detail) == ("skipped", "no SMS consent on file")
    assert moto_sms(aws) == []


def test_lead_without_phone_is_skipped(sns: Any, aws: str, tmp_path) -> None:
    result = texts(sns, SnsSmsConfig(region=REGION)).send_sms(touch(lead(phone=None)))

    assert (result.status, result.detail) == ("skipped", "no phone number on file")
    assert moto_sms(aws) == []


def test_opted_out_number_is_skipped_not_failed(sns: Any, aws: str, tmp_path) -> None:
    result = texts(sns, SnsSmsConfig(region=REGION)).send_sms(touch(lead(OPTED_OUT_NUMBER)))

    assert (result.status, result.detail) == ("skipped", "opted out")
    assert moto_sms(aws) == []


def test_a_number_sns_refuses_is_a_delivery_rejected_without_the_number(sns: Any) -> None:
    # The Lead model refuses such a number; this is the transport's own guard.
    bad = OutgoingSms(send_key="crm-0042:00003:day-7", lead_id="crm-0042", to="+1-312-555-0142", text="hi")

    with pytest.raises(DeliveryRejected) as raised:
        SnsSmsTransport(sns, SnsSmsConfig(region=REGION)).send(bad)

    assert "InvalidParameter" in str(raised.value) and "crm-0042" in str(raised.value)
    assert "555-0142" not in str(raised.value) and raised.value.__cause__ is None


def offline_sns() -> Any:
    """A client no request leaves: Stubber answers for SNS."""
    return boto3.client("sns", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")


def test_the_activity_fails_a_refused_text_for_good(tmp_path) -> None:
    sns = offline_sns()
    with Stubber(sns) as stub:
        stub.add_response("check_if_phone_number_is_opted_out", {"isOptedOut": False})
        stub.add_client_error(
            "publish",
            service_error_code="InvalidParameter",
            service_message="Invalid parameter: PhoneNumber Reason: +13125550142 is not valid",
            http_status_code=400,
        )

        with pytest.raises(ApplicationError) as raised:
            texts(sns, SnsSmsConfig(region=REGION)).send_sms(touch(lead()))

    assert raised.value.type == DELIVERY_REJECTED and raised.value.non_retryable
    assert "+13125550142" not in str(raised.value) and raised.value.__cause__ is None


@pytest.mark.parametrize(
    ("code", "status"), [("Throttled", 429), ("Throttling", 400), ("InternalError", 500)]
)
def test_throttling_and_server_errors_are_left_for_temporal_to_retry(code: str, status: int, tmp_path) -> None:
    sns = offline_sns()
    with Stubber(sns) as stub:
        stub.add_response("check_if_phone_number_is_opted_out", {"isOptedOut": False})
        stub.add_client_error("publish", service_error_code=code, http_status_code=status)

        with pytest.raises(ApplicationError) as raised:
            texts(sns, SnsSmsConfig(region=REGION)).send_sms(touch(lead()))

    assert raised.value.type == DELIVERY_DEFERRED and not raised.value.non_retryable


def test_opt_out_reported_by_publish_itself_is_a_skip(tmp_path) -> None:
    offline = offline_sns()
    with Stubber(offline) as stub:
        stub.add_response("check_if_phone_number_is_opted_out", {"isOptedOut": False})
        stub.add_client_error("publish", service_error_code="OptedOut", http_status_code=400)

        result = texts(offline, SnsSmsConfig(region=REGION)).send_sms(touch(lead()))

    assert (result.status, result.detail) == ("skipped", "opted out")

