"""SageMaker endpoints on the emulator: they take time, as SageMaker's do, and say so in events.

moto makes an endpoint InService at once, lacks UpdateEndpoint, deletes an
endpoint in any state and drops shadow variants. :class:`SageMakerEndpoints`
plays what SageMaker does instead:

- CreateEndpoint leaves the endpoint ``Creating``; ``creating_seconds`` later it
  is ``InService`` (or ``Failed``, when :meth:`SageMakerEndpoints.fail_next`
  asked for it);
- UpdateEndpoint (refused unless InService, between real-time and serverless,
  or with traffic-shifting sizes out of bounds) leaves it ``Updating`` on its
  old configuration; ``updating_seconds`` later it serves the new one and is
  ``InService`` again, or, failed, rolls back to the old one (``InService`` with
  a ``FailureReason``);
- DeleteEndpoint (refused while Creating or Updating) leaves it ``Deleting``,
  then it is gone;
- CreateModel, CreateEndpointConfig and CreateEndpoint are refused for a name
  that exists (moto would overwrite it), as SageMaker refuses them;
- every change of status emits "SageMaker Endpoint State Change" in
  SageMaker's shape (``IN_SERVICE`` spelling, epoch-millisecond times), so the
  deployment engine meets busy endpoints as it would on AWS.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sandbox.emulator import AwsError, Call, Emulator
from sandbox.emulator_gaps import (
    DUPLICATE_NAMES,
    apply_endpoint_config,
    delete_endpoint_refusal,
    duplicate_name_refusal,
    store_shadow_variants,
    update_endpoint_refusal,
)
from sandbox.event_delivery import EventBus

DETAIL_TYPE = "SageMaker Endpoint State Change"
EVENT_STATUS = {
    "Creating": "CREATING",
    "Updating": "UPDATING",
    "InService": "IN_SERVICE",
    "Deleting": "DELETING",
    "Failed": "FAILED",
    "RollingBack": "ROLLING_BACK",
    "SystemUpdating": "SYSTEM_UPDATING",
    "OutOfService": "OUT_OF_SERVICE",
    "UpdateRollbackFailed": "UPDATE_ROLLBACK_FAILED",
}


class SageMakerEndpoints:
    """The endpoint lifecycle of SageMaker on ``emulator``; events go to ``events``."""

    def __init__(
        self,
        emulator: Emulator,
        events: EventBus | None = None,
        *,
        creating_seconds: float = 1.0,
        updating_seconds: float = 1.0,
        deleting_seconds: float = 0.5,
    ) -> None:
        self._emulator = emulator
        self._events = events
        self.creating_seconds = creating_seconds
        self.updating_seconds = updating_seconds
        self.deleting_seconds = deleting_seconds
        self._failures: dict[tuple[str, str], str] = {}
        self._timers: set[threading.Timer] = set()
        self._lock = threading.Condition()
        emulator.after(
            "sagemaker",
            "CreateEndpoint",
            "moto makes endpoints InService at once: Creating, then InService or Failed later",
        )(self._created)
        emulator.answer(
            "sagemaker",
            "UpdateEndpoint",
            "not in moto: refused as SageMaker refuses; Updating, then the new config later",
        )(self._update)
        emulator.answer(
            "sagemaker",
            "DeleteEndpoint",
            "moto deletes in any state: refused while Creating/Updating; Deleting, then gone",
        )(self._delete)
        emulator.after(
            "sagemaker",
            "CreateEndpointConfig",
            "moto drops ShadowProductionVariants: kept on its config",
        )(self._config_created)
        for operation in DUPLICATE_NAMES:
            emulator.before(
                "sagemaker",
                operation,
                "moto overwrites a model, config or endpoint of the same name: refused",
            )(self._refuse_duplicate)
        emulator.on_stop(self.stop)

    def fail_next(self, endpoint_name: str, reason: str, region: str | None = None) -> None:
        """The next create or update of ``endpoint_name`` fails with ``reason``."""
        self._failures[(region or self._emulator.region, endpoint_name)] = reason

    def wait_until_settled(self, timeout: float = 30.0) -> bool:
        """Wait until no endpoint is on its way to another status; False at ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._timers:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.1))
            return True

    def stop(self) -> None:
        with self._lock:
            timers, self._timers = self._timers, set()
        for timer in timers:
            timer.cancel()

    # -- the operations -------------------------------------------------------------------

    def _refuse_duplicate(self, call: Call) -> None:
        refused = duplicate_name_refusal(call.backend(), call.operation, call.params)
        if refused is not None:
            raise AwsError(*refused)

    def _created(self, call: Call, answer: dict[str, Any]) -> None:
        backend = call.backend()
        endpoint = backend.endpoints[call.params["EndpointName"]]
        endpoint.endpoint_status = "Creating"
        self._emit(call, endpoint)
        self._later(self.creating_seconds, self._finish_create, call, endpoint)

    def _finish_create(self, call: Call, endpoint: Any) -> None:
        failure = self._failures.pop((call.region, endpoint.endpoint_name), None)
        endpoint.endpoint_status = "Failed" if failure else "InService"
        endpoint.failure_reason = failure
        self._emit(call, endpoint)

    def _update(self, call: Call) -> dict[str, Any]:
        backend = call.backend()
        refused = update_endpoint_refusal(backend, call.params)
        if refused is not None:
            raise AwsError(*refused)
        endpoint = backend.endpoints[call.params["EndpointName"]]
        config = backend.endpoint_configs[call.params["EndpointConfigName"]]
        endpoint.endpoint_status = "Updating"
        endpoint.failure_reason = None
        self._emit(call, endpoint)
        self._later(self.updating_seconds, self._finish_update, call, endpoint, config)
        return {"EndpointArn": endpoint.arn}

    def _finish_update(self, call: Call, endpoint: Any, config: Any) -> None:
        failure = self._failures.pop((call.region, endpoint.endpoint_name), None)
        if failure is None:
            apply_endpoint_config(endpoint, config)
        endpoint.endpoint_status = "InService"  # on the new config, or rolled back to the old
        endpoint.failure_reason = failure
        self._emit(call, endpoint)

    def _delete(self, call: Call) -> dict[str, Any]:
        backend = call.backend()
        name = call.params["EndpointName"]
        refused = delete_endpoint_refusal(backend, name)
        if refused is not None:
            raise AwsError(*refused)
        endpoint = backend.endpoints[name]
        endpoint.endpoint_status = "Deleting"
        self._emit(call, endpoint)

        def gone(call: Call, endpoint: Any) -> None:
            if backend.endpoints.get(name) is endpoint:
                del backend.endpoints[name]

        self._later(self.deleting_seconds, gone, call, endpoint)
        return {}

    def _config_created(self, call: Call, answer: dict[str, Any]) -> None:
        store_shadow_variants(call.backend(), call.params)

    # -- time and events ------------------------------------------------------------------

    def _later(self, seconds: float, step: Callable[..., None], *args: Any) -> None:
        def run() -> None:
            try:
                step(*args)
            finally:
                with self._lock:
                    self._timers.discard(timer)
                    self._lock.notify_all()

        timer = threading.Timer(seconds, run)
        timer.daemon = True
        with self._lock:
            self._timers.add(timer)
        timer.start()

    def _emit(self, call: Call, endpoint: Any) -> None:
        if self._events is None:
            return
        detail: dict[str, Any] = {
            "EndpointName": endpoint.endpoint_name,
            "EndpointArn": endpoint.arn,
            "EndpointConfigName": endpoint.endpoint_config_name,
            "ProductionVariants": [
                {
                    "DesiredWeight": float(variant.get("DesiredWeight", 1.0)),
                    "DesiredInstanceCount": float(variant.get("DesiredInstanceCount", 1)),
                }
                for variant in endpoint.production_variants
            ],
            "EndpointStatus": EVENT_STATUS.get(endpoint.endpoint_status, endpoint.endpoint_status),
            "CreationTime": _milliseconds(endpoint.creation_time),
            "LastModifiedTime": _milliseconds(endpoint.last_modified_time),
            "Tags": {tag["Key"]: tag["Value"] for tag in endpoint.tags or []},
        }
        if endpoint.failure_reason:
            detail["FailureReason"] = endpoint.failure_reason
        self._events.emit(
            source="aws.sagemaker",
            detail_type=DETAIL_TYPE,
            detail=detail,
            resources=[endpoint.arn],
            region=call.region,
            account_id=call.account_id,
            time=str(int(self._events.clock.now().timestamp() * 1000)),
        )


def _milliseconds(moment: datetime) -> float:
    """Epoch milliseconds; moto's naive times are UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return float(int(aware.timestamp() * 1000))
