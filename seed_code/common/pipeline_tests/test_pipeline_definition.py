from __future__ import annotations

import json

from pipelines import definition, lineage
from pipelines.project import Project
from steps.evaluate import METRIC_NAMES

from .conftest import ROLE_ARN

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def test_the_pipeline_registers_into_the_branch_group_with_lineage(
    offline_aws, project: Project
) -> None:
    """A feature branch's pipeline (dev's differs only in names): steps, group, lineage."""
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    kind, branch = "feature", "feature-try"
    session = PipelineSession(default_bucket=project.bucket, default_bucket_prefix=project.prefix)
    run = definition.TrainingRun(kind=kind, branch=branch, commit=COMMIT, role_arn=ROLE_ARN)
    pipeline = definition.build_pipeline(project, run, session)
    steps = json.loads(pipeline.definition())["Steps"]

    assert pipeline.name == f"{project.prefix}-{kind}"
    assert [s["Name"] for s in steps] == ["Preprocess", "Train", "Evaluate", "CheckAccuracy"]
    register = steps[-1]["Arguments"]["IfSteps"][0]
    if project.registry == "sagemaker":
        arguments = register["Arguments"]
        assert arguments["ModelPackageGroupName"] == project.model_groups[kind]
        metadata = arguments["CustomerMetadataProperties"]
        assert metadata[lineage.COMMIT_ID] == COMMIT
        assert metadata[lineage.BRANCH] == branch
        assert {lineage.metric_key(name) for name in METRIC_NAMES} <= set(metadata)
    else:
        arguments = register["Arguments"]["AppSpecification"]["ContainerArguments"]
        assert project.model_groups[kind] in arguments
        assert f"{lineage.COMMIT_ID}=" in json.dumps(arguments)
