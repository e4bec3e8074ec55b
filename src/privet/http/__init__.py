"""What every HTTP route shares: the request's store session, problem responses, body limits, rate limits."""
