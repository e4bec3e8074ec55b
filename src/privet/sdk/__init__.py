"""Python SDK for company services: ask Privet whether data may be used, with a local cache that follows consent
changes. Depends only on httpx.

    from privet.sdk import PrivetClient

    with PrivetClient("https://privet.internal", api_key) as privet:
        if privet.decide("marketing.communications", subject_id=user.privet_id).allowed:
            send_newsletter(user)
"""

from privet.sdk.client import Decision, PrivetAPIError, PrivetClient

__all__ = ["Decision", "PrivetAPIError", "PrivetClient"]
