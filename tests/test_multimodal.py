"""Multimodal collections: images and URIs through a data loader, one modality per record.

The embedding function here is small but real: an image embeds as its mean colour,
a text as the colour it names, so nearest neighbours are predictable. The
ImageLoader is the real one, reading PNG files written with pillow. Every test
runs on the embedded client and over HTTP (the ``client`` fixture).
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from huedb.embedding_functions import EmbeddingFunction
from huedb.errors import InvalidArgumentError
from huedb.utils.data_loaders import ImageLoader

COLOURS = {"red": (230, 20, 20), "green": (20, 230, 20), "blue": (20, 20, 230)}


class ColourEF:
    """Images -> normalised mean RGB; texts -> the RGB of the colour word they contain."""

    def __call__(self, inputs: list) -> list[np.ndarray]:
        out = []
        for item in inputs:
            if isinstance(item, str):
                rgb = next((COLOURS[w] for w in COLOURS if w in item), (128, 128, 128))
                v = np.asarray(rgb, dtype=np.float32)
            else:
                v = np.asarray(item, dtype=np.float32).reshape(-1, 3).mean(axis=0)
            out.append(v / np.linalg.norm(v))
        return out

    def supports_images(self) -> bool:
        return True

    @staticmethod
    def name() -> str:
        return "test_colour"


class TextOnlyEF:
    def __call__(self, inputs: list) -> list[np.ndarray]:
        return [np.ones(3, dtype=np.float32) for _ in inputs]

    @staticmethod
    def name() -> str:
        return "test_text_only"


def _square(colour: str) -> np.ndarray:
    return np.tile(np.asarray(COLOURS[colour], dtype=np.uint8), (8, 8, 1))


@pytest.fixture
def pngs(tmp_path):
    paths = {}
    for colour in COLOURS:
        path = tmp_path / f"{colour}.png"
        Image.fromarray(_square(colour)).save(path)
        paths[colour] = str(path)
    return paths


@pytest.fixture
def col(client):
    return client.create_collection("multimodal", embedding_function=ColourEF(), data_loader=ImageLoader())


def _record(col, rid: str):
    got = col.get(ids=[rid], include=["documents", "uris", "embeddings"])
    return got["documents"][0], got["uris"][0], got["embeddings"][0]


def test_add_by_uri_and_query_by_image_uri_and_text(col, pngs):
    col.add(ids=list(pngs), uris=list(pngs.values()))
    by_image = col.query(query_images=[_square("green")], n_results=1, include=["uris", "data", "distances"])
    assert by_image["ids"] == [["green"]]
    assert by_image["uris"] == [[pngs["green"]]]
    np.testing.assert_array_equal(by_image["data"][0][0], _square("green"))
    assert col.query(query_uris=[pngs["blue"]], n_results=1)["ids"] == [["blue"]]
    assert col.query(query_texts=["something red"], n_results=1)["ids"] == [["red"]]
    got = col.get(ids=["red"], include=["data"])
    np.testing.assert_array_equal(got["data"][0], _square("red"))
    assert got["uris"] is None  # asked for data only


def test_images_are_embedded_but_never_stored(col):
    col.add(ids=["img"], images=[_square("blue")])
    document, uri, embedding = _record(col, "img")
    assert document is None and uri is None
    np.testing.assert_allclose(embedding, ColourEF()([_square("blue")])[0], rtol=1e-6)


def test_text_and_images_share_one_collection(col, pngs):
    col.add(ids=["t-red", "t-blue"], documents=["a red thing", "a blue thing"])
    col.add(ids=["i-green"], uris=[pngs["green"]])
    col.add(ids=["i-blue"], images=[_square("blue")])
    assert col.count() == 4
    assert sorted(col.query(query_texts=["blue"], n_results=2)["ids"][0]) == ["i-blue", "t-blue"]
    assert col.query(query_images=[_square("green")], n_results=1)["ids"] == [["i-green"]]


def test_update_text_record_with_image_drops_its_text(col):
    col.add(ids=["a", "b"], documents=["a red thing", "a green thing"])
    col.update(ids=["a"], images=[_square("blue")])
    document, uri, embedding = _record(col, "a")
    assert document is None and uri is None
    np.testing.assert_allclose(embedding, ColourEF()([_square("blue")])[0], rtol=1e-6)
    assert col.get(where_document={"$contains": "red"})["ids"] == []  # the full-text index forgot it too
    assert _record(col, "b")[0] == "a green thing"  # untouched


def test_update_text_record_with_uri_drops_its_text(col, pngs):
    col.add(ids=["a"], documents=["a red thing"])
    col.update(ids=["a"], uris=[pngs["green"]])
    document, uri, _ = _record(col, "a")
    assert document is None and uri == pngs["green"]
    assert col.query(query_images=[_square("green")], n_results=1)["ids"] == [["a"]]


def test_update_image_record_with_text_drops_its_uri(col, pngs):
    col.add(ids=["a"], uris=[pngs["red"]])
    col.update(ids=["a"], documents=["now a blue thing"])
    document, uri, _ = _record(col, "a")
    assert document == "now a blue thing" and uri is None
    assert col.get(ids=["a"], include=["data"])["data"] == [None]


def test_upsert_replaces_the_modality_of_existing_records_only(col, pngs):
    col.add(ids=["old"], documents=["a red thing"])
    col.upsert(ids=["old", "new"], images=[_square("green"), _square("blue")])
    assert _record(col, "old")[:2] == (None, None)
    assert _record(col, "new")[:2] == (None, None)
    assert col.query(query_texts=["green"], n_results=1)["ids"] == [["old"]]


def test_update_with_metadata_only_keeps_every_field(col, pngs):
    col.add(ids=["t"], documents=["a red thing"])
    col.add(ids=["i"], uris=[pngs["blue"]])
    col.update(ids=["t", "i"], metadatas=[{"x": 1}, {"x": 2}])
    assert _record(col, "t")[:2] == ("a red thing", None)
    assert _record(col, "i")[:2] == (None, pngs["blue"])


def test_without_a_data_loader_fields_not_given_stay_as_in_chroma(client):
    plain = client.create_collection("plain", embedding_function=None)
    plain.add(ids=["a"], embeddings=[[1.0, 0.0]], documents=["text"], uris=["s3://bucket/a.png"])
    plain.update(ids=["a"], documents=["new text"], embeddings=[[0.0, 1.0]])
    plain.update(ids=["a"], uris=["s3://bucket/b.png"], embeddings=[[1.0, 1.0]])
    got = plain.get(ids=["a"], include=["documents", "uris"])
    assert got["documents"] == ["new text"] and got["uris"] == ["s3://bucket/b.png"]


class PlainImageEF(EmbeddingFunction):
    """Chroma's documented custom multimodal pattern: a plain EmbeddingFunction subclass whose
    __call__ embeds images too, with no huedb-only supports_images()."""

    def __init__(self) -> None:
        self.colour = ColourEF()

    def __call__(self, input):
        return self.colour(input)

    @staticmethod
    def name() -> str:
        return "test_plain_image_ef"

    def get_config(self):
        return {}

    @staticmethod
    def build_from_config(config):
        return PlainImageEF()


class StripTextEF(TextOnlyEF):
    def __call__(self, inputs: list) -> list[np.ndarray]:
        return [np.full(3, float(len(t.strip())), dtype=np.float32) for t in inputs]


def test_a_plain_embedding_function_subclass_embeds_images(client, pngs):
    col = client.create_collection("plain_images", embedding_function=PlainImageEF(), data_loader=ImageLoader())
    col.add(ids=["red", "blue"], images=[_square("red"), _square("blue")])
    col.add(ids=["green"], uris=[pngs["green"]])
    col.add(ids=["words"], documents=["a blue sky"])
    assert col.query(query_images=[_square("green")], n_results=1)["ids"] == [["green"]]
    assert col.query(query_uris=[pngs["red"]], n_results=1)["ids"] == [["red"]]
    assert set(col.query(query_texts=["blue"], n_results=2)["ids"][0]) == {"blue", "words"}


def test_a_text_only_ef_given_images_fails_with_its_own_error(client):
    # chromadb calls the EF with the images and its own error surfaces (e.g. AttributeError: strip)
    text_only = client.create_collection("text_only", embedding_function=StripTextEF(), data_loader=ImageLoader())
    with pytest.raises(AttributeError, match="strip") as e:
        text_only.add(ids=["a"], images=[_square("red")])
    if hasattr(e.value, "add_note"):  # Python 3.11+: with a hint
        assert "OpenCLIPEmbeddingFunction" in " ".join(e.value.__notes__)
    with pytest.raises(AttributeError, match="strip"):
        text_only.query(query_images=[_square("red")])
    assert text_only.count() == 0


def test_the_default_ef_given_images_says_it_takes_strings(client):
    col = client.create_collection("default_ef_images")
    with pytest.raises(InvalidArgumentError, match="list of strings"):
        col.add(ids=["a"], images=[_square("red")])
    assert col.count() == 0


def test_uris_need_a_data_loader(client, pngs):
    no_loader = client.create_collection("no_loader", embedding_function=ColourEF())
    with pytest.raises(InvalidArgumentError, match="no data loader.*data_loader=ImageLoader"):
        no_loader.add(ids=["a"], uris=[pngs["red"]])
    with pytest.raises(InvalidArgumentError, match="no data loader"):
        no_loader.query(query_uris=[pngs["red"]])
    assert no_loader.count() == 0


def test_documents_and_images_together_are_rejected(col):
    with pytest.raises(InvalidArgumentError, match="one modality"):
        col.add(ids=["a"], documents=["red"], images=[_square("red")])


def test_clear_names_only_documents_or_uris(client):
    plain = client.create_collection("clear", embedding_function=None)
    plain.add(ids=["a"], embeddings=[[1.0, 0.0]], documents=["text"])
    api = plain._api  # the ServerAPI under the collection: LocalAPI or HttpAPI
    with pytest.raises(InvalidArgumentError, match="clear"):
        api._update(plain.id, ["a"], None, None, None, None, clear=["embeddings"], **plain._scope())
    api._update(plain.id, ["a"], None, None, None, None, clear=["documents"], **plain._scope())
    assert plain.get(ids=["a"])["documents"] == [None]
