"""The cookie banner and click tracking: script, config, recording, browser flows."""
