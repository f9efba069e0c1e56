"""deploy/aws/inbound-events.yaml creates on CloudFormation (moto), and its output is a
TOUCHPOINT_INGEST the consumer accepts.

moto's CloudFormation does not implement AWS::SNS::Subscription or AWS::SQS::QueuePolicy
(it warns and skips them), so the topic → queue wiring is checked here by reading the
template, not by publishing through the stack."""

import json
from pathlib import Path

from activities.inbound.config import IngestConfig

TEMPLATE = Path(__file__).parents[2] / "deploy" / "aws" / "inbound-events.yaml"


def test_the_inbound_template_builds_queues_the_ingest_settings_accept(aws, aws_client):
    cloudformation = aws_client("cloudformation")
    cloudformation.create_stack(
        StackName="touchpoint-inbound",
        TemplateBody=TEMPLATE.read_text(),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    stack = cloudformation.describe_stacks(StackName="touchpoint-inbound")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}

    config = IngestConfig.model_validate({"region": "us-east-1", **json.loads(outputs["IngestSettings"])})
    assert set(config.queues()) == {"events", "replies", "sms"}

    sqs, sns = aws_client("sqs"), aws_client("sns")
    topics = {t["TopicArn"] for t in sns.list_topics()["Topics"]}
    assert {outputs["EventsTopicArn"], outputs["RepliesTopicArn"], outputs["SmsTopicArn"]} <= topics

    redrive = json.loads(
        sqs.get_queue_attributes(QueueUrl=config.events_queue_url, AttributeNames=["RedrivePolicy"])[
            "Attributes"
        ]["RedrivePolicy"]
    )
    assert int(redrive["maxReceiveCount"]) > config.max_receives
    assert redrive["deadLetterTargetArn"].endswith("touchpoint-ingest-dlq")


def test_each_topic_feeds_its_own_queue_and_only_its_topic_may_write_there():
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    for tag in ("!Ref", "!GetAtt", "!Sub"):
        Loader.add_constructor(tag, lambda loader, node, tag=tag: {tag: loader.construct_scalar(node)})
    resources = yaml.load(TEMPLATE.read_text(), Loader=Loader)["Resources"]
    wiring = {
        (r["Properties"]["TopicArn"]["!Ref"], r["Properties"]["Endpoint"]["!GetAtt"])
        for r in resources.values()
        if r["Type"] == "AWS::SNS::Subscription"
    }
    assert wiring == {
        ("EventsTopic", "EventsQueue.Arn"), ("RepliesTopic", "RepliesQueue.Arn"), ("SmsTopic", "SmsQueue.Arn"),
    }
    statements = resources["QueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allowed = {(s["Resource"]["!GetAtt"], s["Condition"]["ArnEquals"]["aws:SourceArn"]["!Ref"]) for s in statements}
    assert allowed == {("EventsQueue.Arn", "EventsTopic"), ("RepliesQueue.Arn", "RepliesTopic"), ("SmsQueue.Arn", "SmsTopic")}
