"""Sample apps that ``huedb install APP`` copies into a new folder (package data)."""
