"""Email through an SMTP relay (smtplib): for a company mail server, Mailpit, or SES's SMTP.

The message is the one every transport sends (activities/delivery/mime.py), with a Message-ID we
make from the send key and return as the message id. One connection per send: sends
are minutes apart per lead, and a pooled connection would outlive the relay's idle
timeout anyway.

What an error means: before DATA (connect, STARTTLS, AUTH, MAIL, RCPT) nothing can
have been sent, so a 4xx reply or a dropped connection is retried and a 5xx reply
rejects the touch; bad credentials or a relay without STARTTLS make every send wait
(15 minutes) rather than fail every lead. After DATA is under way, a dropped
connection or timeout leaves the send in doubt (the relay may have queued it).
"""

import smtplib
import ssl
from datetime import timedelta

from activities.common.logs import activity_log
from activities.delivery.config import SmtpConfig
from activities.delivery.errors import DeliveryDeferred, DeliveryError, DeliveryInDoubt, DeliveryRejected, redact
from activities.delivery.mime import WIRE_POLICY, OutgoingEmail, build_mime

MISCONFIGURED_RETRY = timedelta(minutes=15)


class SmtpTransport:
    # Nothing tells a test relay from a real one: SMTP always counts as real.
    service = "the SMTP relay"

    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    def send(self, message: OutgoingEmail) -> str:
        message_id = message.message_id
        # SMTP relays keep our Message-ID, so thread_with already is one.
        eml = build_mime(message, message_id=message_id, in_reply_to=message.thread_with)
        data = eml.as_bytes(policy=WIRE_POLICY)
        smtp = self._open()
        try:
            self._envelope(smtp, message)
            try:
                code, reply = smtp.data(data)
            except smtplib.SMTPDataError as err:
                # The relay refused DATA itself: nothing was transferred.
                raise _refused("DATA", err.smtp_code, err.smtp_error, message) from err
            except (OSError, smtplib.SMTPException) as err:
                raise DeliveryInDoubt(
                    f"the SMTP connection failed while sending the message ({type(err).__name__}); "
                    "the relay may have queued it"
                ) from err
            if code != 250:
                raise _refused("end of DATA", code, reply, message)
        finally:
            _quit(smtp)
        return message_id

    def _open(self) -> smtplib.SMTP:
        config = self._config
        try:
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds)
        except (OSError, smtplib.SMTPException) as err:
            raise DeliveryDeferred(
                f"could not connect to SMTP relay {config.host}:{config.port} ({type(err).__name__}: {err})"
            ) from err
        try:
            smtp.ehlo()
            if config.starttls:
                context = ssl.create_default_context(cafile=config.ca_file)
                smtp.starttls(context=context)
                smtp.ehlo()
            if config.username is not None and config.password is not None:
                smtp.login(config.username, config.password.get_secret_value())
        except smtplib.SMTPNotSupportedError as err:
            _quit(smtp)
            raise _misconfigured(f"relay {config.host} does not offer STARTTLS or AUTH ({err})") from err
        except smtplib.SMTPAuthenticationError as err:
            _quit(smtp)
            raise _misconfigured(
                f"relay {config.host} refused the SMTP username and password ({err.smtp_code})"
            ) from err
        except ssl.SSLError as err:
            _quit(smtp)
            raise _misconfigured(f"STARTTLS with {config.host} failed: {err}") from err
        except (OSError, smtplib.SMTPException) as err:
            _quit(smtp)
            raise DeliveryDeferred(
                f"SMTP session setup with {config.host} failed ({type(err).__name__}: {err})"
            ) from err
        return smtp

    def _envelope(self, smtp: smtplib.SMTP, message: OutgoingEmail) -> None:
        try:
            code, reply = smtp.mail(message.from_address)
            if code != 250:
                raise _refused("MAIL FROM", code, reply, message)
            code, reply = smtp.rcpt(message.to_address)
            if code not in (250, 251):
                raise _refused("RCPT TO", code, reply, message)
        except DeliveryError:
            raise
        except (OSError, smtplib.SMTPException) as err:
            raise DeliveryDeferred(
                f"the SMTP connection failed before the message was sent ({type(err).__name__})"
            ) from err


def _refused(stage: str, code: int, reply: bytes | str, message: OutgoingEmail) -> DeliveryError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    said = f"the relay answered {code} to {stage}: {redact(text, message.to_address)}"
    if 400 <= code < 500:
        return DeliveryDeferred(said)
    return DeliveryRejected(f"{said}. Check the sender and recipient with the relay's operator")


def _misconfigured(problem: str) -> DeliveryDeferred:
    activity_log().error("SMTP relay misconfigured: sends wait and retry", problem=problem)
    return DeliveryDeferred(
        f"{problem}; sends wait and retry every 15 minutes until the SMTP settings are fixed",
        retry_after=MISCONFIGURED_RETRY,
    )


def _quit(smtp: smtplib.SMTP) -> None:
    """Say goodbye if the line still works; the outcome was settled before this."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
