"""What the laws say about a request: deadlines per jurisdiction profile, refusal grounds, repeats and fees."""
