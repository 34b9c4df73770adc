"""Local HTTP emulators of the remote platforms Stockroom talks to (demo + tests)."""
