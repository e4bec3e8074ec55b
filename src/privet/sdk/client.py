"""`PrivetClient`: decisions over HTTP with a local cache kept correct by the decision change feed.

Correctness of the cache: before a cached answer is served, the client polls `GET /decisions/changes` when more
than `sync_interval` seconds passed since the last poll, and drops every cached answer that drew on a holder
named there (each answer lists its holders), whether the ledger changed or the subject did (channel preferences,
age, merges, guardians); a changed policy (data map, notices) drops everything. An answer fetched while a poll
dropped entries is not cached (it may predate the change). `sync()` polls at once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import httpx

BATCH = 1000


@dataclass(frozen=True)
class Decision:
    """Privet's answer: allowed or not, a stable reason code, the legal basis and the ledger record relied on."""

    allowed: bool
    reason: str
    legal_basis: str | None
    record_id: str | None
    purpose: str
    holders: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, body: dict) -> Decision:
        return cls(
            body["allowed"],
            body["reason"],
            body.get("legal_basis"),
            body.get("record_id"),
            body["purpose"],
            tuple(body.get("holders") or ()),
        )


@dataclass(frozen=True)
class CollectionCheck:
    """Whether a form's fields fit a purpose (P43): required categories missing, optional fields (show them as
    optional where they are collected), fields the purpose does not need (do not collect them for it)."""

    purpose: str
    declared_purpose: str
    fits: bool
    required: tuple[str, ...]
    optional: tuple[str, ...]
    missing: tuple[str, ...]
    optional_present: tuple[str, ...]
    not_needed: tuple[str, ...]
    fields: tuple[dict, ...]
    names: dict

    @classmethod
    def from_json(cls, body: dict) -> CollectionCheck:
        return cls(
            body["purpose"],
            body["declared_purpose"],
            body["fits"],
            tuple(body["required"]),
            tuple(body["optional"]),
            tuple(body["missing"]),
            tuple(body["optional_present"]),
            tuple(body["not_needed"]),
            tuple(body["fields"]),
            dict(body.get("names") or {}),
        )


class PrivetAPIError(Exception):
    """Privet refused the request (problem JSON: title, detail, hint, errors) or could not answer it."""

    def __init__(self, status: int, problem: dict) -> None:
        self.status, self.problem = status, problem
        super().__init__(f"{status} {problem.get('title', '')}: {problem.get('detail', '')}".strip())


def _question(
    purpose: str,
    subject_id: str | None,
    identity: tuple[str, str] | None,
    visitor_id: str | None,
    categories: list[str] | None,
    region: str | None,
    at: datetime | str | None,
    channel: str | None = None,
) -> dict:
    if sum(x is not None for x in (subject_id, identity, visitor_id)) != 1:
        raise ValueError("name exactly one of subject_id, identity or visitor_id")
    body: dict[str, Any] = {"purpose": purpose}
    if subject_id is not None:
        body["subject_id"] = subject_id
    elif identity is not None:
        body["identity"] = {"type": identity[0], "value": identity[1]}
    else:
        body["visitor_id"] = visitor_id
    if categories:
        body["categories"] = list(categories)
    if region:
        body["region"] = region
    if at is not None:
        body["at"] = at if isinstance(at, str) else at.isoformat()
    if channel:
        body["channel"] = channel
    return body


def _key(q: dict) -> tuple | None:
    """The cache key of a question; None for questions about an earlier time (not cached)."""
    if "at" in q:
        return None
    who = (
        ("s", q["subject_id"])
        if "subject_id" in q
        else ("v", q["visitor_id"])
        if "visitor_id" in q
        else ("i", q["identity"]["type"], q["identity"]["value"])
    )
    return who, q["purpose"], tuple(sorted(q.get("categories", ()))), q.get("region"), q.get("channel")


class PrivetClient:
    """Thread-safe client for Privet's decision API."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        cache_ttl: float = 30.0,
        sync_interval: float = 1.0,
        timeout: float = 5.0,
        max_entries: int = 100_000,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1",
            timeout=timeout,
            transport=transport,
            headers={"Authorization": f"Bearer {api_key}"},
        )
        self.cache_ttl, self.sync_interval, self.max_entries = cache_ttl, sync_interval, max_entries
        self._lock = threading.RLock()
        self._cache: dict[tuple, tuple[float, Decision]] = {}
        self._by_holder: dict[str, set[tuple]] = {}
        self._last_seq: int | None = None
        self._subjects_seq: int | None = None  # the audit seq of subject changes already seen
        self._policy: str | None = None
        self._synced_at = 0.0
        self._drops = 0  # bumped whenever a poll drops entries: answers fetched across it are not cached

    # ---- public --------------------------------------------------------------------------------------------
    def decide(
        self,
        purpose: str,
        *,
        subject_id: str | None = None,
        identity: tuple[str, str] | None = None,
        visitor_id: str | None = None,
        categories: list[str] | None = None,
        region: str | None = None,
        at: datetime | None = None,
        channel: str | None = None,
    ) -> Decision:
        """One decision; served from the cache when it is still known to be right. With `channel` (email, sms,
        push), marketing the person switched off on that channel is denied (reason CHANNEL_OPTED_OUT)."""
        return self.decide_many(
            [_question(purpose, subject_id, identity, visitor_id, categories, region, at, channel)]
        )[0]

    def decide_many(self, questions: list[dict]) -> list[Decision]:
        """Many decisions (dicts with purpose and subject_id | identity | visitor_id, optional categories, region,
        at, channel), answered in order; uncached ones are asked in batches of 1,000."""
        questions = [
            _question(
                q["purpose"],
                q.get("subject_id"),
                _identity(q.get("identity")),
                q.get("visitor_id"),
                q.get("categories"),
                q.get("region"),
                q.get("at"),
                q.get("channel"),
            )
            for q in questions
        ]
        self._maybe_sync()
        keys = [_key(q) for q in questions]
        now = time.monotonic()
        answers: list[Decision | None] = []
        with self._lock:
            for key in keys:
                hit = self._cache.get(key) if key is not None else None
                answers.append(hit[1] if hit is not None and hit[0] > now else None)
            drops = self._drops
        missing = [i for i, a in enumerate(answers) if a is None]
        for start in range(0, len(missing), BATCH):
            chunk = missing[start : start + BATCH]
            if len(chunk) == 1:
                fetched = [Decision.from_json(self._call("POST", "/decisions", json=questions[chunk[0]]))]
            else:
                body = self._call("POST", "/decisions/batch", json={"items": [questions[i] for i in chunk]})
                fetched = [Decision.from_json(item) for item in body["items"]]
            for i, decision in zip(chunk, fetched):
                answers[i] = decision
            self._store([(keys[i], d) for i, d in zip(chunk, fetched)], drops)
        return cast("list[Decision]", answers)  # every question answered: from the cache or fetched above

    def check_collection(
        self,
        purpose: str,
        fields: list[str | dict] | dict[str, str],
        *,
        activity: str | None = None,
        subject_type: str | None = None,
        lang: str | None = None,
    ) -> CollectionCheck:
        """Do a form's fields fit `purpose`? `fields`: category keys, {"name", "category"} dicts, or a mapping of
        field name to category. Not cached (the answer depends on the data map only; ask when a form changes)."""
        if isinstance(fields, dict):
            fields = [{"name": name, "category": category} for name, category in fields.items()]
        body: dict[str, Any] = {"purpose": purpose, "fields": list(fields)}
        for name, value in (("activity", activity), ("subject_type", subject_type), ("lang", lang)):
            if value is not None:
                body[name] = value
        return CollectionCheck.from_json(self._call("POST", "/collection/check", json=body))

    def sync(self) -> int:
        """Poll the change feed now; drop cached answers of changed holders. Returns the changes seen."""
        seen = 0
        while True:
            after = self._last_seq if self._last_seq is not None else -1
            if after < 0:  # first poll: start from the head; nothing is cached yet
                feed = self._call("GET", "/decisions/changes", params={"after": 0, "limit": 1})
                with self._lock:
                    self._last_seq, self._policy, self._synced_at = feed["head"], feed["policy"], time.monotonic()
                    self._subjects_seq = feed.get("subjects_seq")
                return 0
            params = {"after": after, "limit": 1000}
            if self._subjects_seq is not None:
                params["after_subjects"] = self._subjects_seq
            feed = self._call("GET", "/decisions/changes", params=params)
            with self._lock:
                if feed["policy"] != self._policy:
                    self._clear()
                    self._policy = feed["policy"]
                holders = {c["holder"] for c in feed["changes"]} | set(feed.get("subjects") or ())
                if feed.get("subjects_seq") is not None:
                    self._subjects_seq = feed["subjects_seq"]
                if holders:
                    self._drops += 1
                    for holder in holders:
                        for key in self._by_holder.pop(holder, ()):
                            self._cache.pop(key, None)
                self._last_seq, self._synced_at = max(feed["last_seq"], after), time.monotonic()
            seen += len(feed["changes"]) + len(feed.get("subjects") or ())
            if not feed["more"]:
                return seen

    def clear(self) -> None:
        """Forget every cached answer."""
        with self._lock:
            self._clear()

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def __enter__(self) -> PrivetClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ---- internals -----------------------------------------------------------------------------------------
    def _maybe_sync(self) -> None:
        if self._last_seq is None or time.monotonic() - self._synced_at >= self.sync_interval:
            self.sync()

    def _store(self, items: list[tuple[tuple | None, Decision]], drops: int) -> None:
        expires = time.monotonic() + self.cache_ttl
        with self._lock:
            if drops != self._drops or self.cache_ttl <= 0:
                return  # a change arrived while these were asked: they may predate it
            if len(self._cache) + len(items) > self.max_entries:
                self._clear()
            for key, decision in items:
                if key is None:
                    continue
                self._cache[key] = (expires, decision)
                for holder in decision.holders:
                    self._by_holder.setdefault(holder, set()).add(key)

    def _clear(self) -> None:
        self._cache.clear()
        self._by_holder.clear()

    def _call(self, method: str, path: str, **kwargs: Any) -> dict:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise PrivetAPIError(0, {"title": "Unreachable", "detail": type(exc).__name__}) from exc
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"title": response.reason_phrase, "detail": ""}
            raise PrivetAPIError(response.status_code, problem)
        return response.json()


def _identity(value: Any) -> tuple[str, str] | None:  # as a caller wrote it: a (type, value) pair, a dict, None
    if value is None or isinstance(value, tuple):
        return value
    if isinstance(value, dict):
        return value["type"], value["value"]
    return tuple(value)  # any other pair-like iterable, taken as the (type, value) pair
