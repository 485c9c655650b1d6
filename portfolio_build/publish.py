"""``python build.py publish``: the release into one account, in several regions at once.

In every region (in parallel, each line prefixed by its region):

1. **inspect**, changing nothing: the stacks' states, the bucket's owner, the platform
   stack's drift, the Studio domains. Any problem in any region stops the publish here,
   before anything changes anywhere.
2. **prepare**: the bootstrap stack (created, or updated through a change set), the
   artifacts uploaded under their content-addressed keys, the platform stack's change set,
   and what Service Catalog and the S3 template method will get: the **plan**, printed.
   ``--dry-run`` stops after the plan and leaves no change set behind; a plan that replaces
   or removes a resource asks for confirmation unless ``--yes``.
3. **apply**: the platform change set executed (stack events as they come), termination
   protection on both stacks, the products' versions, the S3 template method; then, with
   stage accounts configured, the target-account stack in each stage account
   (:mod:`portfolio_build.target_publish`; its profiles are checked in step 1), or the
   StackSet to the stages' organizational units (:mod:`portfolio_build.target_stack_set`).

Everything is idempotent: a rerun after an interruption continues from what is there,
and a publish with nothing changed makes no change set and uploads nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import boto3

from portfolio_build import template_method
from portfolio_build.aws_session import SessionFactory, caller_account, open_session
from portfolio_build.config import BuildConfig
from portfolio_build.errors import PublishError
from portfolio_build.organization import organization_of
from portfolio_build.plan_text import Output
from portfolio_build.region_publish import PublishOptions, RegionPublish
from portfolio_build.release import Release, check_template_sizes
from portfolio_build.target_publish import TargetRollout, platform_outputs
from portfolio_build.target_stack_set import StackSetRollout

MAX_PARALLEL_REGIONS = 4


def publish(
    config: BuildConfig,
    release: Release,
    options: PublishOptions,
    sessions: Callable[[str], boto3.Session],
    *,
    output: Output | None = None,
    confirm: Callable[[str], bool] | None = None,
    target_sessions: SessionFactory = open_session,
) -> int:
    """Publish ``release`` to every region of ``config``; the exit status.

    ``target_sessions`` opens the session of a stage account's profile (``target_profiles``).
    """
    output = output or Output()
    check_template_sizes(release)
    regions = list(config.regions)
    opened = {region: sessions(region) for region in regions}
    account = caller_account(opened[regions[0]], config.publish.profile)
    token = f"{release.source_sha256[:12] or 'dist'}-{int(time.time())}"
    studio = template_method.studio_templates(
        {a.name: release.template(a) for a in release.of_kind("product-template")}
    )
    publishers = [
        RegionPublish(r, opened[r], account, release, config, options, output, token, studio)
        for r in regions
    ]
    targets = TargetRollout(config, release, account, opened[regions[0]], target_sessions, output)
    stack_sets = StackSetRollout(config, release, account, opened[regions[0]], output)
    _each(publishers, RegionPublish.inspect)
    if targets.wanted:
        organization = organization_of(opened[regions[0]], f"the platform account {account}")
        stack_sets.inspect(organization)
        targets.inspect(organization, stack_sets.accounts)
    try:
        _each(publishers, RegionPublish.prepare)
    except PublishError:
        _discard(publishers)
        raise
    for line in [*targets.plan_lines(), *stack_sets.plan_lines()]:
        output.region(regions[0])(line)
    for publisher in publishers:
        lines = publisher.plan_lines()
        for line in lines or [
            "nothing to publish: stacks, artifacts, versions and S3 templates are current"
        ]:
            publisher.log(line)
    if options.dry_run:
        _discard(publishers)
        print("dry run: nothing was changed")
        return 0
    risky = [(p.region, c) for p in publishers for c in p.risky]
    if risky and not options.yes:
        question = f"The plan replaces or removes {len(risky)} resource(s). Go on?"
        if not (confirm or ask)(question):
            _discard(publishers)
            raise PublishError(
                "stopped before any change set ran: the plan was not confirmed (--yes to skip)"
            )
    _each([p for p in publishers if p.changes or p.platform_stack is None], RegionPublish.apply)
    targets.apply(publishers)
    stack_sets.apply(publishers, platform_outputs)
    for publisher in publishers:
        if publisher.changes:
            publisher.log(f"published; launch roles: {publisher.launch_roles()}")
    return 0


def ask(question: str) -> bool:
    if not sys.stdin.isatty():
        raise PublishError(f"{question} No terminal to ask: review the plan and publish with --yes")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def _each(publishers: list[RegionPublish], step: Callable[[RegionPublish], None]) -> None:
    """Run ``step`` in every region in parallel; the first failure (by region order) is raised
    once all are done."""
    if not publishers:
        return
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_REGIONS, len(publishers))) as pool:
        futures = [pool.submit(step, p) for p in publishers]
    errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:
        messages = [
            str(e) if isinstance(e, PublishError) else f"{type(e).__name__}: {e}" for e in errors
        ]
        if len(errors) == 1 and isinstance(errors[0], PublishError):
            raise errors[0]
        raise PublishError("; ".join(messages)) from errors[0]


def _discard(publishers: list[RegionPublish]) -> None:
    for publisher in publishers:
        publisher.discard()
