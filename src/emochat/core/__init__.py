"""The floor every other package stands on; it imports nothing of emochat."""
