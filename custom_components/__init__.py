"""Custom integrations; this repository holds one: smartmeter."""
