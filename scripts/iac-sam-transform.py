#!/usr/bin/env python3
"""Applies the SAM transform to template.yaml locally and prints the CloudFormation JSON.

What `sam package` + CloudFormation's transform do, without an AWS account: each local CodeUri
(a zip under dist/) becomes s3://BUCKET/<zip name>, then aws-sam-translator expands the
AWS::Serverless resources. The tests read the result, and the emulator deploy feeds it to
CloudFormation, which cannot run the transform itself.

usage: iac-sam-transform.py [--template template.yaml] [--bucket BUCKET] [--region REGION]
"""

import argparse
import json
import os
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default="template.yaml")
    parser.add_argument("--bucket", default="artifacts-not-uploaded")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or "eu-west-1")
    args = parser.parse_args()

    # The translator reads the region from the environment for the ARNs it builds.
    os.environ["AWS_DEFAULT_REGION"] = args.region

    try:
        from samtranslator.parser.parser import Parser
        from samtranslator.translator.translator import Translator
        from samtranslator.yaml_helper import yaml_parse
    except ImportError:
        print("aws-sam-translator is not installed: pip install aws-sam-translator", file=sys.stderr)
        return 1

    with open(args.template, encoding="utf-8") as handle:
        template = yaml_parse(handle.read())

    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties") or {}
        code_uri = properties.get("CodeUri")
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(code_uri, str):
            if not code_uri.startswith("s3://"):
                properties["CodeUri"] = f"s3://{args.bucket}/{os.path.basename(code_uri)}"

    # Every managed policy is written out in the template; there are none to look up.
    translator = Translator(managed_policy_map={}, sam_parser=Parser())
    try:
        output = translator.translate(sam_template=template, parameter_values={})
    except Exception as error:  # the translator raises its own InvalidDocumentException tree
        print(f"SAM transform failed: {error}", file=sys.stderr)
        for cause in getattr(error, "causes", []):
            print(f"  {cause}", file=sys.stderr)
        return 1
    json.dump(output, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
