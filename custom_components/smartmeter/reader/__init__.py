"""Reading P1 telegrams over serial or TCP; knows nothing of Home Assistant."""
