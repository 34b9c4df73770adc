"""Security primitives: encryption of platform credentials at rest, signature checks."""
