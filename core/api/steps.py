"""One implementation of the client logic for the sync and the async clients.

A client method that talks to its server is written once, as a generator of *steps*: it
validates and embeds, then ``yield``s each call it needs (an ``ApiCall`` of the ServerAPI,
or, inside HttpAPI, an ``HttpCall``) and gets the answer back from the yield. ``@steps``
makes the sync method, which performs each call at once; the async clients
(``huedb.api.async_client``) drive the same generator and ``await`` each call on an
``httpx.AsyncClient``. An error a call raises is thrown into the generator at its yield,
so the generator's own ``try``/``except`` works the same both ways.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
#: what a steps method returns: a generator of calls whose final value is the result
Steps = Generator[Any, Any, T]


@dataclass(frozen=True)
class ApiCall:
    """A call of a ServerAPI method (``name``) with its arguments."""

    name: str
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


def api_call(name: str, *args: Any, **kwargs: Any) -> ApiCall:
    return ApiCall(name, args, kwargs)


def drive(gen: Steps[T], perform: Callable[[Any], Any]) -> T:
    """Runs the steps, performing each call synchronously."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            call = gen.throw(error) if error is not None else gen.send(value)
        except StopIteration as done:
            return done.value
        try:
            value, error = perform(call), None
        except Exception as e:  # noqa: BLE001 - handed to the generator, which may catch it
            value, error = None, e


async def drive_async(gen: Steps[T], perform: Callable[[Any], Awaitable[Any]]) -> T:
    """Runs the steps, awaiting each call: the event loop runs other tasks meanwhile."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            call = gen.throw(error) if error is not None else gen.send(value)
        except StopIteration as done:
            return done.value
        try:
            value, error = await perform(call), None
        except Exception as e:  # noqa: BLE001
            value, error = None, e


def steps(fn: Callable[..., Steps[T]]) -> Callable[..., T]:
    """Makes a steps generator method a sync method (calls performed by ``self._perform``);
    the generator function stays reachable as ``.steps`` for the async clients."""

    @functools.wraps(fn)
    def run(self: Any, *args: Any, **kwargs: Any) -> T:
        return drive(fn(self, *args, **kwargs), self._perform)

    run.steps = fn  # type: ignore[attr-defined]
    return run


def steps_of(bound: Any, *args: Any, **kwargs: Any) -> Steps[Any]:
    """The steps of another ``@steps`` method of the same object, for ``yield from``."""
    return bound.__func__.steps(bound.__self__, *args, **kwargs)


def steps_function(cls: type, name: str) -> Callable[..., Steps[Any]] | None:
    """The steps generator function behind ``cls.name``, or None when it is not a ``@steps`` method."""
    return getattr(getattr(cls, name, None), "steps", None)
