"""A request coming in: filing (public and staff), identity verification, the law it is handled under."""
