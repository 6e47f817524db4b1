"""Keluhan: public-service complaints backend for Kota Makassar."""
