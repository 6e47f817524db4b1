"""Use cases: each takes its ports as keyword arguments and returns what happened."""
