"""Run by huedb's python for test_wire_search.py: reads {"records": ..., "batches": [[payload, ...]]}
on stdin, loads the records into an embedded huedb collection (exact index) and prints, as JSON,
what ``collection.search`` returns for each batch of payloads."""

import json
import sys

import huedb
from huedb.api.types import SparseVector
from huedb.execution.expression import Search

data = json.load(sys.stdin)
records = data["records"]
client = huedb.EphemeralClient()
# "schema": the JSON chromadb's Schema.serialize_to_json() gives, when the wire side used one
col = client.create_collection("wire-search", configuration={"index": {"name": "exact"}}, schema=data.get("schema"))
metadatas = [
    {k: SparseVector.from_dict(v) if isinstance(v, dict) else v for k, v in r["metadata"].items()} for r in records
]
col.add(
    ids=[r["id"] for r in records],
    embeddings=[r["embedding"] for r in records],
    documents=[r["document"] for r in records],
    metadatas=[md or None for md in metadatas],
)
out = []
for batch in data["batches"]:
    result = dict(col.search([Search.from_dict(p) for p in batch]))
    for metas in result.get("metadatas") or []:
        for md in metas or []:
            for k, v in list((md or {}).items()):
                if isinstance(v, SparseVector):
                    md[k] = v.to_dict()
    out.append(result)
print(json.dumps(out))
