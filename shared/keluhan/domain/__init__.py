"""Pure domain: no cloud imports, no I/O beyond reading files handed in."""
