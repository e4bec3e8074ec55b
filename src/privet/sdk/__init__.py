"""Python SDK for company services: ask Privet whether data may be used, with a local cache that follows consent
changes. Depends only on httpx.

    from privet.sdk import PrivetClient

    with PrivetClient("https://privet.internal", api_key) as privet:
        if privet.decide("marketing.communications", subject_id=user.privet_id).allowed:
            send_newsletter(user)
        if privet.decide("marketing.communications", subject_id=user.privet_id, channel="sms").allowed:
            send_text_offer(user)  # not if the person switched marketing texts off (P44)
        form = privet.check_collection("marketing.communications", {"email": "user.contact.email"})
        assert form.fits, (form.missing, form.not_needed)  # P43: required vs optional fields
"""

from privet.sdk.client import CollectionCheck, Decision, PrivetAPIError, PrivetClient

__all__ = ["CollectionCheck", "Decision", "PrivetAPIError", "PrivetClient"]
