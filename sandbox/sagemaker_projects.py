"""SageMaker projects, played for the emulator (moto has none): CreateProject,
DescribeProject, ListProjects and DeleteProject, for both shapes the API documents.

- ``ServiceCatalogProvisioningDetails``: the product is provisioned through the
  emulator's Service Catalog (its launch constraint's role), with the parameters
  SageMaker fills in (``SageMakerProjectName``, ``SageMakerProjectId``);
- ``TemplateProviders`` (the S3 template method): each ``CfnTemplateProvider``'s template
  (``TemplateURL``) becomes a CloudFormation stack made with its ``RoleARN`` and
  parameters, plus the two SageMaker fills in.

The project's status follows its stacks' (read on every Describe). Also: a domain made
without tags cannot be tagged or have its tags listed in moto (its tags are None); the
S3 template method tags domains, so AddTags and ListTags first give it an empty list.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from sandbox.emulator import AwsError, Call

if TYPE_CHECKING:
    from sandbox.emulator import Emulator

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
STACK_STATUS = {
    "CREATE_IN_PROGRESS": "CreateInProgress",
    "CREATE_COMPLETE": "CreateCompleted",
    "UPDATE_COMPLETE": "CreateCompleted",
    "DELETE_IN_PROGRESS": "DeleteInProgress",
    "DELETE_COMPLETE": "DeleteCompleted",
    "DELETE_FAILED": "DeleteFailed",
}
RECORD_STATUS = {"IN_PROGRESS": "CreateInProgress", "SUCCEEDED": "CreateCompleted"}


@dataclass
class Project:
    name: str
    id: str
    arn: str
    description: str
    tags: list[dict[str, str]]
    provisioning: dict[str, Any] | None = None
    provisioned_product_id: str = ""
    providers: list[dict[str, Any]] = field(default_factory=list)
    status: str = "Pending"
    created: datetime = field(default_factory=lambda: datetime.now(UTC))


PROJECTS: dict[tuple[str, str], dict[str, Project]] = {}


def reset() -> None:
    PROJECTS.clear()


class SageMakerProjects:
    def register(self, emulator: Emulator) -> None:
        emulator.on_stop(reset)
        why = "moto has no SageMaker projects"
        emulator.answer("sagemaker", "CreateProject", why)(self.create_project)
        emulator.answer("sagemaker", "DescribeProject", why)(self.describe_project)
        emulator.answer("sagemaker", "ListProjects", why)(self.list_projects)
        emulator.answer("sagemaker", "DeleteProject", why)(self.delete_project)
        for operation in ("AddTags", "ListTags"):
            emulator.before("sagemaker", operation, "fails on a domain made without tags")(
                self.untagged_domain
            )

    def untagged_domain(self, call: Call) -> None:
        arn = call.params.get("ResourceArn", "")
        if ":domain/" in arn:
            domain = call.backend().domains.get(arn.rsplit("/", 1)[-1])
            if domain is not None and domain.tags is None:
                domain.tags = []

    def _projects(self, call: Call) -> dict[str, Project]:
        return PROJECTS.setdefault((call.account_id, call.region), {})

    def create_project(self, call: Call) -> dict[str, Any]:
        params = call.params
        projects = self._projects(call)
        name = params["ProjectName"]
        if name in projects:
            raise AwsError("ValidationException", f"Project {name} already exists", status=400)
        has_catalog = bool(params.get("ServiceCatalogProvisioningDetails"))
        if has_catalog == bool(params.get("TemplateProviders")):
            raise AwsError(
                "ValidationException",
                "give exactly one of ServiceCatalogProvisioningDetails and TemplateProviders",
                status=400,
            )
        project_id = "p-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=12))
        project = Project(
            name=name,
            id=project_id,
            arn=f"arn:aws:sagemaker:{call.region}:{call.account_id}:project/{name}",
            description=params.get("ProjectDescription", ""),
            tags=list(params.get("Tags") or []),
        )
        filled = [
            {"Key": "SageMakerProjectName", "Value": name},
            {"Key": "SageMakerProjectId", "Value": project_id},
        ]
        tags = [
            *project.tags,
            {"Key": "sagemaker:project-name", "Value": name},
            {"Key": "sagemaker:project-id", "Value": project_id},
        ]
        if has_catalog:
            self._provision(call, project, filled, tags)
        else:
            self._create_stacks(call, project, filled, tags)
        projects[name] = project
        return {"ProjectArn": project.arn, "ProjectId": project.id}

    def _provision(
        self, call: Call, project: Project, filled: list[dict[str, str]], tags: list[dict[str, str]]
    ) -> None:
        details = dict(call.params["ServiceCatalogProvisioningDetails"])
        catalog = call.emulator.client("servicecatalog", call.region, account_id=call.account_id)
        if not details.get("ProvisioningArtifactId"):
            described = catalog.describe_product_as_admin(Id=details["ProductId"])
            details["ProvisioningArtifactId"] = described["ProvisioningArtifactSummaries"][-1]["Id"]
        options = {
            "ProductId": details["ProductId"],
            "ProvisioningArtifactId": details["ProvisioningArtifactId"],
            "ProvisionedProductName": f"SageMaker-{project.name}-{project.id}",
            "ProvisioningParameters": [*(details.get("ProvisioningParameters") or []), *filled],
            "Tags": tags,
        }
        if details.get("PathId"):
            options["PathId"] = details["PathId"]
        try:
            record = catalog.provision_product(**options)["RecordDetail"]
        except ClientError as exc:
            raise AwsError(
                "ValidationException", exc.response["Error"]["Message"], status=400
            ) from exc
        project.provisioning = details
        project.provisioned_product_id = record["ProvisionedProductId"]

    def _create_stacks(
        self, call: Call, project: Project, filled: list[dict[str, str]], tags: list[dict[str, str]]
    ) -> None:
        cloudformation = call.emulator.client(
            "cloudformation", call.region, account_id=call.account_id
        )
        for provider in call.params["TemplateProviders"]:
            template = provider["CfnTemplateProvider"]
            stack_name = f"SM-{project.name}-{template['TemplateName']}"[:128]
            parameters = [*(template.get("Parameters") or []), *filled]
            options: dict[str, Any] = {
                "StackName": stack_name,
                "TemplateURL": template["TemplateURL"],
                "Parameters": [
                    {"ParameterKey": p["Key"], "ParameterValue": p["Value"]} for p in parameters
                ],
                "Capabilities": CAPABILITIES,
                "Tags": tags,
            }
            if template.get("RoleARN"):
                options["RoleARN"] = template["RoleARN"]
            try:
                stack_id = cloudformation.create_stack(**options)["StackId"]
            except ClientError as exc:
                raise AwsError(
                    "ValidationException", exc.response["Error"]["Message"], status=400
                ) from exc
            project.providers.append(
                {
                    "CfnTemplateProviderDetail": {
                        **template,
                        "StackDetail": {"Name": stack_name, "Id": stack_id},
                    }
                }
            )

    def _status(self, call: Call, project: Project) -> str:
        if project.provisioned_product_id:
            catalog = call.emulator.client(
                "servicecatalog", call.region, account_id=call.account_id
            )
            try:
                described = catalog.describe_provisioned_product(Id=project.provisioned_product_id)
            except ClientError:
                return project.status
            record = catalog.describe_record(
                Id=described["ProvisionedProductDetail"]["LastRecordId"]
            )
            return RECORD_STATUS.get(record["RecordDetail"]["Status"], "CreateFailed")
        backend = call.backend("cloudformation")
        statuses = []
        for provider in project.providers:
            stack_id = provider["CfnTemplateProviderDetail"]["StackDetail"]["Id"]
            stack = backend.stacks.get(stack_id) or backend.deleted_stacks.get(stack_id)
            statuses.append(
                STACK_STATUS.get(stack.status, "CreateFailed") if stack else "CreateFailed"
            )
        for status in ("CreateFailed", "CreateInProgress"):
            if status in statuses:
                return status
        return statuses[0] if statuses else project.status

    def _project(self, call: Call) -> Project:
        project = self._projects(call).get(call.params["ProjectName"])
        if project is None:
            raise AwsError(
                "ValidationException",
                f"Project {call.params['ProjectName']} does not exist",
                status=400,
            )
        return project

    def describe_project(self, call: Call) -> dict[str, Any]:
        project = self._project(call)
        project.status = self._status(call, project)
        described: dict[str, Any] = {
            "ProjectArn": project.arn,
            "ProjectName": project.name,
            "ProjectId": project.id,
            "ProjectDescription": project.description,
            "ProjectStatus": project.status,
            "CreationTime": project.created,
        }
        if project.provisioning is not None:
            described["ServiceCatalogProvisioningDetails"] = project.provisioning
            described["ServiceCatalogProvisionedProductDetails"] = {
                "ProvisionedProductId": project.provisioned_product_id
            }
        if project.providers:
            described["TemplateProviderDetails"] = project.providers
        return described

    def list_projects(self, call: Call) -> dict[str, Any]:
        return {
            "ProjectSummaryList": [
                {
                    "ProjectName": p.name,
                    "ProjectDescription": p.description,
                    "ProjectArn": p.arn,
                    "ProjectId": p.id,
                    "CreationTime": p.created,
                    "ProjectStatus": p.status,
                }
                for p in self._projects(call).values()
            ]
        }

    def delete_project(self, call: Call) -> dict[str, Any]:
        project = self._project(call)
        if project.provisioned_product_id:
            catalog = call.emulator.client(
                "servicecatalog", call.region, account_id=call.account_id
            )
            catalog.terminate_provisioned_product(
                ProvisionedProductId=project.provisioned_product_id
            )
        cloudformation = call.emulator.client(
            "cloudformation", call.region, account_id=call.account_id
        )
        for provider in project.providers:
            cloudformation.delete_stack(
                StackName=provider["CfnTemplateProviderDetail"]["StackDetail"]["Id"]
            )
        del self._projects(call)[project.name]
        return {}
