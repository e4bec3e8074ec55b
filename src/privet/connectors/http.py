"""The HTTP connector (kind `http`): a company endpoint fetches, erases or rectifies a person's data itself.

The datastore's secret is JSON: `{"url": "https://crm.internal/privet", "signing_key": "...", "timeout": 10}`
(timeout in seconds, optional; https required except for loopback hosts). Privet POSTs JSON
`{action, datastore, request_reference, identities, changes?, retain_from?, callback_url?, callback_token?}`
signed like Privet's webhooks: `X-Privet-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`
under `signing_key` (receivers check it with `privet.consent.webhooks.signing.verify_signature`).

The endpoint answers 200 with `{"rows": {table: [row, ...]}}` (fetch) or `{"counts": {table: {action: n}},
"retained": [...]}` (erase, rectify): done. Or 202: it will answer later by POSTing the same JSON to
`callback_url` with `Authorization: Bearer <callback_token>` and the body signed with the same signing key
(see `privet.requests.execution.callbacks`). Timeouts, other statuses and malformed answers raise ConnectorError, whose
message names the datastore and the HTTP status only, never identities or the endpoint's answer.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from datetime import date
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from privet.connectors.base import Connector, ConnectorError, DatastorePlan, StepResult, register
from privet.consent.webhooks.service import _is_loopback  # the same rules as Privet's webhooks
from privet.consent.webhooks.signing import sign
from privet.kit.clock import utcnow

SIGNATURE_HEADER = "X-Privet-Signature"
DEFAULT_TIMEOUT_SECONDS = 10.0
CALLBACK_PATH = "/api/v1/requests/callbacks/"


def parse_secret(datastore: str, secret: str | None) -> tuple[str, str, float]:
    """(url, signing key, timeout) from the datastore's secret; ConnectorError (never quoting it) when unusable."""
    hint = 'the secret must be JSON {"url": "https://...", "signing_key": "...", "timeout": 10}'
    try:
        data = json.loads(secret or "")
        url, key = str(data["url"]).strip(), str(data["signing_key"])
        timeout = float(data.get("timeout", DEFAULT_TIMEOUT_SECONDS))
    except (ValueError, TypeError, KeyError, AttributeError):
        raise ConnectorError(f"datastore {datastore}: the HTTP connector's secret is not usable; {hint}") from None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise ConnectorError(f"datastore {datastore}: the HTTP connector's URL is not a plain http(s) URL; {hint}")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConnectorError(
            f"datastore {datastore}: the HTTP connector must use https (identities are sent); "
            "plain http is accepted for loopback hosts only"
        )
    if len(key) < 16 or not 0 < timeout <= 300:
        raise ConnectorError(
            f"datastore {datastore}: the signing key needs 16+ characters and the timeout 0-300 seconds"
        )
    return url, key, timeout


def _rows(datastore: str, value: object) -> dict[str, list[dict]]:
    if not isinstance(value, dict) or not all(
        isinstance(t, str) and isinstance(rows, list) and all(isinstance(r, dict) for r in rows)
        for t, rows in value.items()
    ):
        raise ConnectorError(f"datastore {datastore}: `rows` must map each table to a list of objects")
    return value


def _counts(datastore: str, value: object) -> dict[str, dict[str, int]]:
    if not isinstance(value, dict) or not all(
        isinstance(t, str)
        and isinstance(c, dict)
        and all(isinstance(k, str) and isinstance(n, int) and not isinstance(n, bool) and n >= 0 for k, n in c.items())
        for t, c in value.items()
    ):
        raise ConnectorError(f"datastore {datastore}: `counts` must map each table to {{action: whole number}}")
    return value


def parse_answer(datastore: str, data: object) -> StepResult:
    """A finished step from the endpoint's (or its callback's) JSON answer; ConnectorError when malformed."""
    if not isinstance(data, dict) or not ({"rows", "counts", "retained"} & set(data)):
        raise ConnectorError(f"datastore {datastore}: the answer must be a JSON object with `rows` or `counts`")
    rows = _rows(datastore, data.get("rows", {}))
    counts = {t: dict(c) for t, c in _counts(datastore, data.get("counts", {})).items()}
    for table, found in rows.items():
        counts.setdefault(table, {})["found"] = len(found)
    retained = data.get("retained", [])
    if not isinstance(retained, list) or not all(isinstance(r, dict) for r in retained):
        raise ConnectorError(f"datastore {datastore}: `retained` must be a list of objects")
    return StepResult(counts=counts, retained=retained, rows=rows)


def callback_url(public_url: str, step_id: str) -> str:
    """Where the company's endpoint posts its late answer for one step."""
    return public_url.rstrip("/") + CALLBACK_PATH + step_id


class CallbackStep(Protocol):
    """What a callback token is kept on (a `privet.requests.models.RequestStep`, a layer above connectors)."""

    callback_token_hash: str | None


def new_callback_token(step: CallbackStep) -> str:
    """A fresh callback token for `step`: its sha256 goes on the step, the token itself to the endpoint."""
    token = "pcb_" + secrets.token_urlsafe(32)
    step.callback_token_hash = hashlib.sha256(token.encode()).hexdigest()
    return token


@register
class HttpConnector(Connector):
    """Calls the company's endpoint; set `request_reference`, `callback_url` and `callback_token` before use."""

    kind = "http"

    def __init__(self, plan: DatastorePlan, secret: str | None) -> None:
        super().__init__(plan, secret)
        self.url, self._key, self.timeout = parse_secret(plan.datastore, secret)
        self.request_reference: str | None = None
        self.callback_url: str | None = None  # None: the endpoint must answer at once (a 202 is an error)
        self.callback_token: str | None = None
        self._client: httpx.Client | None = None

    def _post(self, action: str, body: dict) -> httpx.Response:
        payload = {
            "action": action,
            "datastore": self.plan.datastore,
            "request_reference": self.request_reference,
            **body,
        }
        if self.callback_url and action != "ping":
            payload |= {"callback_url": self.callback_url, "callback_token": self.callback_token}
        raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self._key, raw, int(utcnow().timestamp())),
        }
        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout, follow_redirects=False)
        name = self.plan.datastore
        try:
            response = self._client.post(self.url, content=raw, headers=headers)
        except httpx.TimeoutException:
            raise ConnectorError(f"datastore {name}: the HTTP endpoint timed out after {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise ConnectorError(
                f"datastore {name}: the HTTP endpoint could not be reached ({type(exc).__name__})"
            ) from None
        if not 200 <= response.status_code < 300:
            raise ConnectorError(f"datastore {name}: the HTTP endpoint answered HTTP {response.status_code}")
        return response

    def _call(self, action: str, body: dict) -> StepResult:
        response = self._post(action, body)
        if response.status_code == 202:
            if not self.callback_url:
                raise ConnectorError(
                    f"datastore {self.plan.datastore}: the HTTP endpoint answered 202 (later) but "
                    "no callback URL was given"
                )
            return StepResult(pending=True)
        try:
            data = response.json()
        except ValueError:
            raise ConnectorError(f"datastore {self.plan.datastore}: the HTTP endpoint's answer is not JSON") from None
        return parse_answer(self.plan.datastore, data)

    def test_connection(self) -> None:
        """POST a signed `ping`; any 2xx answer is fine."""
        self._post("ping", {})

    def fetch(self, identities: dict[str, list[str]]) -> StepResult:
        """Ask the endpoint for the person's rows."""
        return self._call("fetch", {"identities": identities})

    def erase(self, identities: dict[str, list[str]], *, retain_from: date) -> StepResult:
        """Ask the endpoint to erase the person's data (it reports counts and what it retained)."""
        return self._call("erase", {"identities": identities, "retain_from": retain_from.isoformat()})

    def rectify(self, identities: dict[str, list[str]], changes: Mapping[str, str | dict[str, str]]) -> StepResult:
        """Ask the endpoint to set each category in `changes` to its new value."""
        return self._call("rectify", {"identities": identities, "changes": changes})

    def close(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            self._client.close()
            self._client = None
