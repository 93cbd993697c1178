"""Plugin hook specifications: one callback spec per kind of plugin.

Each hook receives ``register``; call it once per class you provide. The name
a class is registered under comes from the class itself (``name()`` for
embedding functions, ``name`` for the others) unless passed explicitly as
``register(cls, name="...")``.
"""

import pluggy

hookspec = pluggy.HookspecMarker("huedb")
hookimpl = pluggy.HookimplMarker("huedb")


@hookspec
def register_embedding_functions(register):
    """Register EmbeddingFunction classes, keyed by ``cls.name()``."""


@hookspec
def register_index_segments(register):
    """Register IndexSegment classes, keyed by ``cls.name``."""


@hookspec
def register_data_loaders(register):
    """Register DataLoader classes, keyed by ``cls.name``."""


@hookspec
def register_authn_providers(register):
    """Register server authentication providers (who is calling), keyed by ``cls.name``."""


@hookspec
def register_authz_providers(register):
    """Register server authorization providers (may they do this), keyed by ``cls.name``."""


@hookspec
def register_client_auth_providers(register):
    """Register client auth providers (which headers to send), keyed by ``cls.name``."""


@hookspec
def register_commands(cli):
    """Add commands to the ``huedb`` command line: ``cli`` is its Click group
    (``@cli.command()`` / ``cli.add_command(...)``). Called once when the CLI starts."""
