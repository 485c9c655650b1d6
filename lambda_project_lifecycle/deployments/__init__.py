"""Deployments: approvals deploy the exact model, rejections roll back, dev endpoints expire.

Handlers (one Lambda each, all from the same zip):

* :mod:`.model_deploy` - "SageMaker Model Package State Change": deploy or roll back;
* :mod:`.endpoint_events` - "SageMaker Endpoint State Change": autoscaling, integration
  tests, notifications;
* :mod:`.reaper` - schedule: delete development endpoints past their TTL.

The first two drive the deployment engine (:mod:`.deployer`): approval decisions
(:mod:`.decisions`), converging the endpoint (:mod:`.convergence`), the models' role
(:mod:`.model_role`) and what follows a deployment (:mod:`.follow_up`). Project delete
(:mod:`.teardown`) removes every endpoint, config, model, alarm and scaling target of a
project. Nothing here waits for an endpoint to be InService.
"""
