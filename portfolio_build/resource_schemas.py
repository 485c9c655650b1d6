"""What CloudFormation's resource schemas (as the installed cfn-lint ships them) say of a type.

Both ``publish``'s change-set plan and the sandbox's CloudFormation (an update that
changes a create-only property replaces the resource) read it here. cfn-lint is
imported on the first question, not with this module: importing it loads its whole
rule set (about 65 MB and 1.5 s), which a build command that asks nothing of a schema
does not need.
"""

from __future__ import annotations

from functools import cache


@cache
def create_only_properties(resource_type: str) -> frozenset[str]:
    """The top-level properties whose change replaces a resource of ``resource_type`` (none
    for a type cfn-lint does not know)."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
    except Exception:  # a type cfn-lint does not know: assume nothing is create-only
        return frozenset()
    return frozenset(
        p.removeprefix("/properties/").split("/")[0] for p in schema.get("createOnlyProperties", [])
    )
