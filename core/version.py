"""huedb's version, in a module of its own: any layer may read it without importing the
package root (``huedb/__init__`` imports the clients)."""

__version__ = "0.1.0"
