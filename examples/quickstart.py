"""Quickstart: a persistent collection on the offline default embedding function."""

import sys

import huedb

path = sys.argv[1] if len(sys.argv) > 1 else "./quickstart_data"
client = huedb.PersistentClient(path=path)
collection = client.get_or_create_collection(name="my_collection")
collection.upsert(
    ids=["id1", "id2"],
    documents=["This is a document about pineapple", "This is a document about oranges"],
)
results = collection.query(query_texts=["This is a query document about hawaii"], n_results=2)
print(results)
assert results["ids"] == [["id1", "id2"]], results["ids"]
