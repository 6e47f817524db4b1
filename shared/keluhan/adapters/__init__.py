"""Adapters: the outside world (HTTP receivers, cloud clients) behind small functions."""
