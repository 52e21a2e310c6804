"""Talking to a help desk's REST API: where it is, how to sign in, and retries.

`client_for(settings, vendor)` builds a `Client` from the workspace's
`[connectors.VENDOR]` settings. `Client.get` returns the JSON body of a successful
response; it waits and tries again on 429 (honouring `Retry-After`, or the
`X-RateLimit-Reset` time Intercom sends instead), on 5xx and on a
dropped connection or timeout, with exponential backoff, and raises ConnectorError on
anything it cannot fix by waiting (401/403: the credentials; 404: the address). The
token is sent in a header and appears in no message.
"""

from __future__ import annotations

import base64
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from typing import Any

import httpx

from cxmetrics.connectors._state import secret
from cxmetrics.errors import ConnectorError
from cxmetrics.settings import Settings

USER_AGENT = "cxmetrics-connector"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class TransientError(ConnectorError):
    """The help desk did not answer usefully this time (429, 5xx, dropped connection)
    and retries ran out; running the sync again continues where it stopped."""


@dataclass(frozen=True)
class Retry:
    """How long to keep trying: `attempts` tries in all, waits doubling from `base_s`
    (with jitter) up to `max_s`, a server's Retry-After taken as given up to `max_s`."""

    attempts: int = 8
    base_s: float = 1.0
    max_s: float = 120.0

    def wait(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_s)
        return min(self.base_s * 2 ** attempt, self.max_s) * random.uniform(0.5, 1.0)


def retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (seconds or an HTTP date), or None.

    >>> retry_after("7"), retry_after(None), retry_after("soon")
    (7.0, None, None)
    """
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)


def rate_limit_reset(value: str | None, now: float | None = None) -> float | None:
    """Seconds until the time an `X-RateLimit-Reset` header gives (Unix seconds: what
    Intercom's 429 carries instead of Retry-After), or None when absent, malformed or past
    (a clock behind the server's then falls back to backoff rather than retrying at once).

    >>> rate_limit_reset("1700000030", now=1700000000.0), rate_limit_reset(None), rate_limit_reset("soon")
    (30.0, None, None)
    """
    try:
        reset = float(value) if value is not None else None
    except ValueError:
        return None
    if reset is None:
        return None
    wait = reset - (time.time() if now is None else now)
    return wait if wait > 0 else None


class Client:
    """A help desk's API: JSON in, JSON out, with retries (see the module's docstring)."""

    def __init__(self, vendor: str, base_url: str, *, headers: dict[str, str] | None = None,
                 transport: httpx.BaseTransport | None = None, retry: Retry = Retry(),
                 sleep: Callable[[float], None] = time.sleep, timeout_s: float = 60.0) -> None:
        self.vendor, self.retry, self._sleep = vendor, retry, sleep
        self.requests = 0  # answered requests, retries included: what the sync's summary reports
        self.retries = 0
        # the headers of the last answered request: pagination some APIs send only there
        # (Freshdesk's `Link: <...>; rel="next"`) and rate-limit counters
        self.last_headers: httpx.Headers = httpx.Headers()
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers={"User-Agent": USER_AGENT, **(headers or {})},
                                  transport=transport, timeout=timeout_s, follow_redirects=False)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def get(self, url: str, params: dict[str, Any] | None = None, *, missing_ok: bool = False) -> Any:
        """The JSON body of GET `url` (a path under the base address, or a full next-page URL);
        with `missing_ok`, None for a 404 (an object deleted since a list or search named it)."""
        return self.request("GET", url, params=params, missing_ok=missing_ok)

    def post(self, url: str, body: Any) -> Any:
        """The JSON body of POST `url` with a JSON body (Intercom's search, for one)."""
        return self.request("POST", url, json=body)

    def request(self, method: str, url: str, *, params: dict[str, Any] | None = None, json: Any = None,
                missing_ok: bool = False) -> Any:
        for attempt in range(self.retry.attempts):
            last = attempt == self.retry.attempts - 1
            try:
                response = self._http.request(method, url, params=params, json=json)
            except (httpx.TransportError, httpx.DecodingError) as exc:  # dropped, refused, timed out
                if last:
                    raise TransientError(f"{self.vendor} did not answer {method} {_path(url)} after "
                                         f"{self.retry.attempts} tries ({type(exc).__name__}); run the sync again "
                                         "later: it continues where it stopped.") from None
                self.retries += 1
                self._sleep(self.retry.wait(attempt, None))
                continue
            self.requests += 1
            self.last_headers = response.headers
            if response.status_code in RETRY_STATUSES:
                if last:
                    raise TransientError(f"{self.vendor} answered {response.status_code} to {method} {_path(url)} "
                                         f"{self.retry.attempts} times; run the sync again later: it continues "
                                         "where it stopped.")
                self.retries += 1
                hint = retry_after(response.headers.get("Retry-After"))
                if hint is None and response.status_code == 429:  # Intercom says when its window resets instead
                    hint = rate_limit_reset(response.headers.get("X-RateLimit-Reset"))
                self._sleep(self.retry.wait(attempt, hint))
                continue
            if response.status_code in (401, 403):
                who = "the token and the email" if self.vendor == "zendesk" else "the token"
                raise ConnectorError(f"{self.vendor} refused the credentials ({response.status_code} on "
                                     f"{_path(url)}); check {who} in [connectors.{self.vendor}], and that the "
                                     "token may read this.")
            if response.status_code == 404 and missing_ok:
                return None
            if response.status_code >= 400:
                raise ConnectorError(f"{self.vendor} answered {response.status_code} to {method} {_path(url)}: "
                                     f"{_brief(response.text)}. Check base_url/subdomain in "
                                     f"[connectors.{self.vendor}].")
            try:
                return response.json()
            except ValueError:
                if last:
                    raise TransientError(f"{self.vendor} sent a body that is not JSON for {_path(url)}.") from None
                self.retries += 1  # a body cut short by a dropped connection
                self._sleep(self.retry.wait(attempt, None))
        raise AssertionError("unreachable")  # the loop returns or raises


def _path(url: str) -> str:
    """A URL without its query (which may carry a cursor, never shown whole)."""
    return url.split("?", 1)[0]


def _brief(text: str) -> str:
    text = " ".join(text.split())
    return text[:200] + ("..." if len(text) > 200 else "")


def base_url(settings: Settings, vendor: str) -> str:
    """The API's address from [connectors.VENDOR]: base_url, or the vendor's cloud
    address built from subdomain (Zendesk, Freshdesk); Intercom's is fixed."""
    conf = settings.connectors.get(vendor, {})
    if conf.get("base_url"):
        url = conf["base_url"].rstrip("/")
        if not url.startswith(("https://", "http://")):
            raise ConnectorError(f"[connectors.{vendor}] base_url '{url}' must start with https://.")
        return url
    sub = conf.get("subdomain", "")
    if vendor in ("zendesk", "freshdesk") and sub:
        if not sub.replace("-", "").isalnum():
            raise ConnectorError(f"[connectors.{vendor}] subdomain '{sub}' must be the account's name only, "
                                 f"such as acme for acme.{vendor}.com.")
        return f"https://{sub}.{vendor}.com"
    if vendor == "intercom":
        return "https://api.intercom.io"
    if vendor == "chatwoot":
        return "https://app.chatwoot.com"
    raise ConnectorError(f"[connectors.{vendor}] needs subdomain (acme for acme.{vendor}.com) or base_url.")


def auth_headers(settings: Settings, vendor: str) -> dict[str, str]:
    """The headers that sign in to the vendor's API with the configured token."""
    token = secret(settings, vendor, "token")
    conf = settings.connectors.get(vendor, {})
    if vendor == "zendesk":  # basic auth as {email}/token:{api_token}
        email = conf.get("email")
        if not email:
            raise ConnectorError("[connectors.zendesk] needs email: the agent whose API token is used.")
        return {"Authorization": "Basic " + base64.b64encode(f"{email}/token:{token}".encode()).decode()}
    if vendor == "freshdesk":  # basic auth as {api_key}:X
        return {"Authorization": "Basic " + base64.b64encode(f"{token}:X".encode()).decode()}
    if vendor == "intercom":
        return {"Authorization": f"Bearer {token}", "Accept": "application/json", "Intercom-Version": "2.11"}
    if vendor == "chatwoot":
        return {"api_access_token": token}
    raise ConnectorError(f"No connection is known for {vendor}.")


def client_for(settings: Settings, vendor: str, *, transport: httpx.BaseTransport | None = None,
               retry: Retry = Retry(), sleep: Callable[[float], None] = time.sleep) -> Client:
    """A Client for `vendor` as [connectors.VENDOR] describes it."""
    if vendor not in settings.connectors:
        where = {"zendesk": "subdomain, email, ", "freshdesk": "subdomain, ", "chatwoot": "account_id, "}.get(vendor, "")
        raise ConnectorError(f"No [connectors.{vendor}] section in settings.toml; add one with {where}and where its "
                             "token is (token_env or token_file): see docs/connectors.md, \"Live sync\".")
    return Client(vendor, base_url(settings, vendor), headers=auth_headers(settings, vendor), transport=transport,
                  retry=retry, sleep=sleep)
