"""The four connector flows; each is a class with a `run()` that the engine calls."""
