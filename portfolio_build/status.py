"""``python build.py status``: what is published where.

Per region: the platform's version and stack status, its drift (a fresh detection),
and each product's versions, offered (active) or deprecated, with how many provisioned
products (projects) use each. Reads only; changes nothing but a drift detection.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.exceptions import ClientError

from portfolio_build.aws_session import CLIENT_CONFIG, caller_account
from portfolio_build.catalog_versions import DEPRECATED, CatalogVersions
from portfolio_build.config import BuildConfig
from portfolio_build.errors import PublishError
from portfolio_build.plan_text import Output
from portfolio_build.publish import MAX_PARALLEL_REGIONS
from portfolio_build.region_publish import stack_names
from portfolio_build.stacks import Stack
from template_common.catalog import PRODUCTS


def region_rows(config: BuildConfig, region: str, clients: dict[str, Any]) -> list[tuple[str, ...]]:
    """Rows of (region, what, version, state, projects) for one region."""
    _, platform_name = stack_names(config)
    stack = Stack(clients["cloudformation"], platform_name, region, lambda line: None)
    described = stack.describe()
    if described is None:
        return [(region, f"stack {platform_name}", "-", "not published", "")]
    try:
        version = clients["ssm"].get_parameter(Name=config.settings.version_parameter)["Parameter"][
            "Value"
        ]
    except ClientError:
        version = "?"
    drifted = stack.drifted_resources()
    drift = f"DRIFTED: {', '.join(drifted)}" if drifted else "IN_SYNC"
    rows = [
        (region, f"stack {platform_name}", str(version), described["StackStatus"], ""),
        (region, "drift", "", drift, ""),
    ]
    catalog = CatalogVersions(clients["servicecatalog"], config.settings, config.publish, region)
    state = catalog.inspect(None)
    for product in PRODUCTS:
        product_id = state.products.get(product.name)
        if product_id is None:
            rows.append((region, product.name, "-", "not published", ""))
            continue
        for found in reversed(catalog.versions(product_id, state.used)):
            offered = "deprecated" if found.guidance == DEPRECATED else "active"
            rows.append(
                (
                    region,
                    product.name,
                    found.name,
                    offered if found.active else "inactive",
                    str(found.used),
                )
            )
    return rows


def report(
    config: BuildConfig,
    sessions: Callable[[str], boto3.Session],
    output: Output | None = None,
) -> int:
    regions = list(config.regions)
    opened = {region: sessions(region) for region in regions}
    caller_account(opened[regions[0]], config.publish.profile)
    # Clients made in this thread (a boto3 session is not thread-safe), used in parallel.
    clients = {
        r: {
            name: opened[r].client(name, region_name=r, config=CLIENT_CONFIG)
            for name in ("cloudformation", "ssm", "servicecatalog")
        }
        for r in regions
    }
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_REGIONS, len(regions))) as pool:
        futures = [pool.submit(region_rows, config, r, clients[r]) for r in regions]
    errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:
        raise PublishError(f"status: {errors[0]}") from errors[0]
    rows = [("region", "what", "version", "state", "projects")]
    for future in futures:
        rows += future.result()
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    write = print if output is None else output.region("status")
    for row in rows:
        write(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0
