"""chromadb's ``telemetry`` import path. huedb sends no telemetry, ever: nothing here opens a
connection, and ``Settings(anonymized_telemetry=...)`` is accepted and ignored. The classes in
``huedb.telemetry.product`` exist so code that imports or patches chromadb's (e.g. to silence
Posthog) keeps running."""
