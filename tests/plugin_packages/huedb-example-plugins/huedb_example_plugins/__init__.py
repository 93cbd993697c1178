"""Example third-party huedb plugins: an embedding function, an index segment,
a data loader and an authentication provider, each declared as an entry point
in the ``huedb`` group (see pyproject.toml)."""
