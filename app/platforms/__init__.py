"""One package per external system behind the small interface in base.py."""
