def test_moto_server_records_an_ses_send_through_real_boto3(aws_client):
    ses = aws_client("sesv2")
    ses.create_email_identity(EmailIdentity="harborview.example")
    sent = ses.send_email(
        FromEmailAddress="jordan@harborview.example",
        Destination={"ToAddresses": ["dana@acme.example"]},
        Content={"Simple": {"Subject": {"Data": "hi"}, "Body": {"Text": {"Data": "hello"}}}},
    )
    assert sent["MessageId"]
