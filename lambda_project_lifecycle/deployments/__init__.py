"""Deployments: approvals deploy the exact model, rejections roll back, dev endpoints expire.

Handlers (one Lambda each, all from the same zip):

* :mod:`.model_deploy` - "SageMaker Model Package State Change": deploy or roll back;
* :mod:`.endpoint_events` - "SageMaker Endpoint State Change": autoscaling, integration
  tests, notifications;
* :mod:`.reaper` - schedule: delete development endpoints past their TTL.

Project delete (:mod:`.teardown`) removes every endpoint, config, model, alarm and
scaling target of a project. Nothing here waits for an endpoint to be InService.
"""
