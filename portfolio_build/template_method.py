"""The S3 template method: SageMaker Studio reads project templates from S3 directly.

Each product template is uploaded as YAML (what Studio reads for this method) under
one stable prefix of the artifacts bucket, each object tagged
``sagemaker:studio-visibility=true``; each Studio domain named with ``--studio-domain``
is tagged ``sagemaker:projectS3TemplatesLocation`` with that location. The bucket's
CORS rule for ``https://*.sagemaker.aws`` is declared by the bootstrap template, and the
launch role of this method by the platform template.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import yaml
from botocore.exceptions import ClientError

from portfolio_build.errors import PublishError
from portfolio_build.manifest import KEY_PREFIX
from portfolio_build.uploads import Bucket
from template_common.catalog import STUDIO_ORIGIN, STUDIO_VISIBILITY_TAG

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient
else:
    SageMakerClient = Any

TEMPLATES_PREFIX = f"{KEY_PREFIX}/studio-templates/"
LOCATION_TAG = "sagemaker:projectS3TemplatesLocation"


@dataclass(frozen=True)
class StudioTemplate:
    key: str
    body: bytes
    sha256: str


@dataclass
class MethodPlan:
    upload: list[StudioTemplate] = field(default_factory=list)
    retag: list[StudioTemplate] = field(default_factory=list)
    domains: dict[str, str] = field(default_factory=dict)  # domain id -> ARN, to tag
    location: str = ""

    def lines(self) -> list[str]:
        if not (self.upload or self.retag or self.domains):
            return ["S3 template method: no change"]
        lines = [f"S3 template method: upload {t.key}" for t in self.upload]
        lines += [
            f"S3 template method: tag {t.key} {STUDIO_VISIBILITY_TAG}=true" for t in self.retag
        ]
        lines += [
            f"S3 template method: tag domain {d} {LOCATION_TAG}={self.location}"
            for d in self.domains
        ]
        return lines


def studio_templates(templates: dict[str, dict[str, Any]]) -> list[StudioTemplate]:
    """Product name -> template, as the YAML objects Studio reads."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    rendered = []
    for name, body in sorted(templates.items()):
        text = yaml.dump(body, Dumper=dumper, sort_keys=False, default_flow_style=False).encode()
        rendered.append(
            StudioTemplate(f"{TEMPLATES_PREFIX}{name}.yaml", text, hashlib.sha256(text).hexdigest())
        )
    return rendered


def domain_arns(
    sagemaker: SageMakerClient, domains: tuple[str, ...], region: str
) -> dict[str, str]:
    """Each ``--studio-domain`` with its ARN; a domain that does not exist is an error."""
    arns = {}
    for domain in domains:
        try:
            arns[domain] = str(sagemaker.describe_domain(DomainId=domain)["DomainArn"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("ResourceNotFound", "ValidationException"):
                raise PublishError(
                    f"--studio-domain {domain}: no such SageMaker domain in {region}"
                ) from None
            raise
    return arns


def plan(
    bucket: Bucket | None,
    sagemaker: SageMakerClient,
    templates: list[StudioTemplate],
    domains: dict[str, str],
    bucket_name: str | None,
) -> MethodPlan:
    location = (
        f"s3://{bucket_name}/{TEMPLATES_PREFIX}" if bucket_name else "s3://<artifacts bucket>/"
    )
    result = MethodPlan(location=location)
    for template in templates:
        stored = bucket.stored_sha256(template.key) if bucket else None
        if stored != template.sha256:
            result.upload.append(template)
        elif bucket is not None and not _visible(bucket, template.key):
            result.retag.append(template)
    for domain, arn in domains.items():
        tags = sagemaker.list_tags(ResourceArn=arn).get("Tags", [])
        if {t["Key"]: t["Value"] for t in tags}.get(LOCATION_TAG) != location:
            result.domains[domain] = arn
    return result


def _visible(bucket: Bucket, key: str) -> bool:
    tags = bucket.s3.get_object_tagging(
        Bucket=bucket.name, Key=key, ExpectedBucketOwner=bucket.owner
    )
    return {t["Key"]: t["Value"] for t in tags.get("TagSet", [])}.get(
        STUDIO_VISIBILITY_TAG
    ) == "true"


def apply(bucket: Bucket, sagemaker: SageMakerClient, method: MethodPlan) -> None:
    tagging = f"{quote(STUDIO_VISIBILITY_TAG, safe='')}=true"
    for template in method.upload:
        bucket.put(
            template.key, template.body, template.sha256, "application/yaml", tagging=tagging
        )
    for template in method.retag:
        bucket.s3.put_object_tagging(
            Bucket=bucket.name,
            Key=template.key,
            Tagging={"TagSet": [{"Key": STUDIO_VISIBILITY_TAG, "Value": "true"}]},
            ExpectedBucketOwner=bucket.owner,
        )
    for arn in method.domains.values():
        sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": LOCATION_TAG, "Value": method.location}])


def cors_allows_studio(bucket: Bucket) -> bool:
    try:
        rules = bucket.s3.get_bucket_cors(Bucket=bucket.name, ExpectedBucketOwner=bucket.owner)
    except ClientError:
        return False
    return any(STUDIO_ORIGIN in r.get("AllowedOrigins", []) for r in rules.get("CORSRules", []))
