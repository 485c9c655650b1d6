"""The bootstrap stack: the artifacts bucket, deployed before the platform stack.

The Lambda zip, the seed-code zips and the product templates are uploaded
here first, so the platform stack can point at them (as ``cdk bootstrap`` does).
"""

from __future__ import annotations

from troposphere import GetAtt, Output, Ref, Template

from portfolio.buckets import add_private_bucket
from template_common.settings import TemplateSettings


def build(settings: TemplateSettings) -> Template:
    template = Template(
        Description=f"mlops-portfolio {settings.version}: artifacts bucket for templates, "
        "the Lambda zip and seed-code zips."
    )
    bucket = add_private_bucket(template, "ArtifactsBucket")
    template.add_output(Output("ArtifactsBucketName", Value=Ref(bucket)))
    template.add_output(Output("ArtifactsBucketArn", Value=GetAtt(bucket, "Arn")))
    return template
