"""The generic webhook source."""
