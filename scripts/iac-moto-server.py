"""moto for the IaC deploy tier (tests/iac/deploy-*): scripts/moto-server.py, plus what moto 5.2.1
lacks that the deployments need to be read back as AWS would answer. Only here, in the fixture; the
templates use what AWS documents.

Usage: python3 scripts/iac-moto-server.py PORT CONTROL_PORT

Bridged:
  - SQS keeps a queue's RedriveAllowPolicy but never returns it (it is not among the attributes
    GetQueueAttributes knows), so Terraform's aws_sqs_queue waits for it in vain and a test cannot
    read it back. It is returned here as SQS does: the JSON string that was set.
  - CloudTrail's StartLogging, StopLogging and DeleteTrail take a trail's name or its ARN (API
    reference: "Name: ... the name or the CloudTrail ARN of the trail"); moto looks up names only,
    and Terraform sends the ARN.
  - EventBridge: a rule with a schedule and no event pattern matches no event, and a disabled rule
    none either; moto hands every PutEvents entry to both (and so tries to run a scheduled function
    for each event sent to the bus).
"""

import json
import os
import runpy

from moto.cloudtrail.models import CloudTrailBackend
from moto.events.models import Rule
from moto.sqs.models import Queue

if "RedriveAllowPolicy" not in Queue.BASE_ATTRIBUTES:
    Queue.BASE_ATTRIBUTES.append("RedriveAllowPolicy")
# A queue created without one has none.
Queue.redrive_allow_policy = None

_attributes = Queue.attributes.fget


def _attributes_with_redrive_allow_policy(self):
    result = _attributes(self)
    value = result.get("RedriveAllowPolicy")
    if value is None:
        result.pop("RedriveAllowPolicy", None)
    elif not isinstance(value, str):
        # CloudFormation hands it over as an object; SQS stores and returns JSON.
        result["RedriveAllowPolicy"] = json.dumps(value)
    return result


Queue.attributes = property(_attributes_with_redrive_allow_policy)



def _by_name_or_arn(method):
    def call(self, name):
        return method(self, self.get_trail(name).trail_name if name not in self.trails else name)

    return call


for _name in ("start_logging", "stop_logging", "delete_trail"):
    setattr(CloudTrailBackend, _name, _by_name_or_arn(getattr(CloudTrailBackend, _name)))

_send_to_targets = Rule.send_to_targets


def _send_to_matching_targets(self, original_event, *args, **kwargs):
    if self.state != "ENABLED" or (self.scheduled_expression and not self.event_pattern.dump()):
        return None
    return _send_to_targets(self, original_event, *args, **kwargs)


Rule.send_to_targets = _send_to_matching_targets

runpy.run_path(os.path.join(os.path.dirname(__file__), "moto-server.py"), run_name="__main__")
