"""Legal holds on a subject, which block erasure of their data: place, release, list (API routes in `requests.api`)."""
