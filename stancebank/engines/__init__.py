"""Engines other than the local one: backends that execute the rules declared in :mod:`schemas`."""
