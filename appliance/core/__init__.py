"""The authorization core: pure policy over an in-memory view of the store. No I/O."""
