"""Webhooks for consent changes: endpoints and the delivery queue (service), delivery (delivery), signatures
(signing), the API (api) and `privet webhooks` (cli)."""
