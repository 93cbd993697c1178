"""RAG starter: index docs/*.md with the default embedding function, answer with passages.

Runs offline: the default embedding model ships with huedb.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import huedb

HERE = Path(__file__).resolve().parent


def chunks(text: str) -> list[str]:
    """Paragraphs: small enough to be precise, big enough to be read alone."""
    return [p.strip() for p in text.split("\n\n") if p.strip() and not p.strip().startswith("#")]


def index(collection: huedb.Collection) -> int:
    ids, docs, metas = [], [], []
    for path in sorted((HERE / "docs").glob("*.md")):
        for i, chunk in enumerate(chunks(path.read_text(encoding="utf-8"))):
            # Content-derived ids: re-indexing an unchanged paragraph is a no-op upsert.
            ids.append(hashlib.sha1(f"{path.name}:{chunk}".encode()).hexdigest()[:16])
            docs.append(chunk)
            metas.append({"source": path.name, "paragraph": i})
    if ids:
        collection.upsert(ids=ids, documents=docs, metadatas=metas)
    return len(ids)


def answer(question: str, passages: list[tuple[str, str]]) -> str:
    """Plug an LLM in here; the starter shows the passages it would be given."""
    lines = [f"Question: {question}", "Best passages:"]
    lines += [f"  [{source}] {text}" for source, text in passages]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("question")
    parser.add_argument("--reindex", action="store_true", help="re-read docs/ before answering")
    parser.add_argument("-k", type=int, default=2, help="passages to retrieve")
    args = parser.parse_args()
    client = huedb.PersistentClient(path=str(HERE / "data"))
    collection = client.get_or_create_collection("rag_starter", configuration={"hnsw": {"space": "cosine"}})
    if args.reindex or collection.count() == 0:
        print(f"Indexed {index(collection)} passages from docs/")
    result = collection.query(query_texts=[args.question], n_results=args.k)
    metadatas, documents = result["metadatas"], result["documents"]
    assert metadatas is not None and documents is not None  # included by default
    # index() gives every passage a document and a source
    passages = [(m["source"], d) for m, d in zip(metadatas[0], documents[0]) if m is not None and d is not None]
    print(answer(args.question, passages))


if __name__ == "__main__":
    main()
