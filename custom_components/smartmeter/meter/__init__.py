"""DSMR telegram formats, parsing and the values derived from them; no Home Assistant."""
