"""The ``huedb`` command line. ``main`` is the console script; ``cli`` the Click group
(plugins add commands to it through the ``register_commands(cli)`` hook)."""

from huedb.cli.main import build_cli, cli, main

__all__ = ["build_cli", "cli", "main"]
