"""The email queue's default rate comes from the SES account."""

from activities.delivery.config import SesConfig
from workers.settings import Settings
from workers.worker import email_rate


def test_the_default_rate_is_90_percent_of_the_ses_account_max_send_rate(aws_client, aws):
    quota = aws_client("ses").get_send_quota()["MaxSendRate"]
    settings = Settings(
        TOUCHPOINT_EMAIL_TRANSPORT="ses",
        TOUCHPOINT_SES=SesConfig(region="us-east-1", configuration_set="tp", endpoint_url=aws),
        TOUCHPOINT_TOKEN_SECRET="0123456789abcdef0123",
        TOUCHPOINT_UNSUBSCRIBE_BASE_URL="https://u.example",
    )
    assert email_rate(settings) == 0.9 * quota
    assert email_rate(Settings()) is None
