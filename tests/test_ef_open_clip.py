"""OpenCLIPEmbeddingFunction and multimodal collections.

Tests marked ``clip`` need open-clip-torch (the [clip] extra) and run in their
own CI step (.ci/clip_step.sh). They use random weights (checkpoint=None):
nothing is downloaded, and identical inputs still get identical vectors.
The unmarked tests run everywhere and need no SDK.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

import huedb.schemas
from huedb.errors import InvalidArgumentError
from huedb_plugins.embedding.open_clip_ef import OpenCLIPEmbeddingFunction

SCHEMA = json.loads((Path(huedb.schemas.__file__).parent / "open_clip.json").read_text())


def test_plugin_modules_import_and_register_without_sdks():
    """Plugins stay listed without their SDKs, and importing them loads no SDK."""
    code = """
import sys
for sdk in ("openai", "cohere", "open_clip", "torch"):
    sys.modules[sdk] = None  # makes `import sdk` fail
from huedb.registry import Registry
registry = Registry()
names = registry.names("embedding_function")
assert {"openai", "cohere", "open_clip"} <= set(names), names
assert "image" in registry.names("data_loader")
assert not [
    i for i in registry.plugin_info.values() if i.name in ("openai", "cohere", "open_clip", "image") and i.error
]
ef_cls = registry.get("embedding_function", "open_clip")
try:
    ef_cls()
except ValueError as e:
    print("ERROR:", type(e).__name__, e)
"""
    env_plugins = "openai,cohere,open_clip,image"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HUEDB_LOAD_PLUGINS": env_plugins},
    )
    assert out.returncode == 0, out.stderr
    assert "ERROR: InvalidArgumentError" in out.stdout
    assert "pip install 'huedb[clip]'" in out.stdout


@pytest.mark.parametrize(
    "module, cls_name, sdk, extra",
    [
        ("huedb_plugins.embedding.openai_ef", "OpenAIEmbeddingFunction", "openai", "huedb[openai]"),
        ("huedb_plugins.embedding.cohere_ef", "CohereEmbeddingFunction", "cohere", "huedb[cohere]"),
        ("huedb_plugins.embedding.open_clip_ef", "OpenCLIPEmbeddingFunction", "open_clip", "huedb[clip]"),
    ],
)
def test_missing_sdk_names_the_extra(monkeypatch, module, cls_name, sdk, extra):
    import importlib

    cls = getattr(importlib.import_module(module), cls_name)
    monkeypatch.setitem(sys.modules, sdk, None)
    pattern = rf"{cls_name} needs the .*" + re.escape(f"pip install '{extra}'")
    with pytest.raises(InvalidArgumentError, match=pattern):
        cls(api_key="k") if sdk != "open_clip" else cls()


# -- with open-clip-torch --------------------------------------------------


@pytest.fixture(scope="module")
def ef():
    return OpenCLIPEmbeddingFunction(checkpoint=None)


def _images():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, size=(40, 30, 3), dtype=np.uint8)
    red = np.zeros((32, 32, 3), dtype=np.uint8)
    red[..., 0] = 255
    stripes = np.zeros((50, 64), dtype=np.uint8)
    stripes[::4] = 255
    return [noise, red, stripes]


@pytest.mark.clip
def test_text_and_images_share_one_normalised_space(ef):
    texts = ["a photo of a cat", "a red square"]
    text_vecs = np.stack(ef(texts))
    image_vecs = np.stack(ef(_images()))
    assert text_vecs.dtype == np.float32 and image_vecs.dtype == np.float32
    assert text_vecs.shape[1] == image_vecs.shape[1] == 512
    np.testing.assert_allclose(np.linalg.norm(text_vecs, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(image_vecs, axis=1), 1.0, atol=1e-5)
    mixed = np.stack(ef([texts[0], _images()[1], texts[1]]))
    np.testing.assert_allclose(mixed, np.stack([text_vecs[0], image_vecs[1], text_vecs[1]]), atol=1e-5)


@pytest.mark.clip
def test_identical_image_ranks_first(ef):
    images = _images()
    stored = np.stack(ef(images))
    for i, image in enumerate(images):
        query = np.stack(ef.embed_query([image]))
        assert int(np.argmax(stored @ query[0])) == i


@pytest.mark.clip
def test_config_round_trip_and_invalid_inputs(ef):
    config = ef.get_config()
    assert config == {"model_name": "ViT-B-32", "checkpoint": "", "device": "cpu"}
    import jsonschema

    jsonschema.validate(config, SCHEMA)
    rebuilt = OpenCLIPEmbeddingFunction.build_from_config(config)
    assert rebuilt.get_config() == config
    assert ef.name() == "open_clip" and ef.supports_images() and ef.default_space() == "cosine"
    with pytest.raises(InvalidArgumentError, match="checkpoint"):
        ef.validate_config_update(config, {"checkpoint": "openai"})
    with pytest.raises(InvalidArgumentError, match="uint8"):
        ef([np.zeros((8, 8, 3), dtype=np.float32)])
    with pytest.raises(InvalidArgumentError, match=r"input\[0\] is int"):
        ef([7])
    with pytest.raises(InvalidArgumentError, match="Unknown OpenCLIP model"):
        OpenCLIPEmbeddingFunction(model_name="ViT-Nope", checkpoint=None)


@pytest.mark.clip
def test_multimodal_collection(ef, tmp_path):
    from PIL import Image

    import huedb
    from huedb_plugins.loaders.image import ImageLoader

    images = _images()
    uris = []
    for i, image in enumerate(images):
        path = tmp_path / f"img{i}.png"
        Image.fromarray(image).save(path)
        uris.append(str(path))
    client = huedb.EphemeralClient()
    collection = client.create_collection(
        f"multimodal-{uuid.uuid4().hex[:8]}", embedding_function=ef, data_loader=ImageLoader()
    )
    collection.add(ids=["noise", "red", "stripes"], uris=uris)

    by_image = collection.query(query_images=[images[1]], n_results=3, include=["data", "uris", "distances"])
    assert by_image["ids"][0][0] == "red"
    assert by_image["uris"][0][0] == uris[1]
    np.testing.assert_array_equal(by_image["data"][0][0], images[1])

    by_uri = collection.query(query_uris=[uris[2]], n_results=1)
    assert by_uri["ids"][0] == ["stripes"]

    by_text = collection.query(query_texts=["a red square"], n_results=3)
    assert sorted(by_text["ids"][0]) == ["noise", "red", "stripes"]

    got = collection.get(ids=["noise"], include=["data"])
    np.testing.assert_array_equal(got["data"][0], images[0])

    # Texts and images share the collection; rewriting a record in another modality replaces it.
    collection.add(ids=["caption"], documents=["a photo of stripes"])
    assert collection.query(query_texts=["a photo of stripes"], n_results=1)["ids"] == [["caption"]]
    collection.update(ids=["caption"], images=[images[1]])
    got = collection.get(ids=["caption"], include=["documents", "uris", "embeddings"])
    assert got["documents"] == [None] and got["uris"] == [None]
    np.testing.assert_allclose(got["embeddings"][0], ef([images[1]])[0], rtol=1e-5, atol=1e-6)
    collection.update(ids=["noise"], documents=["noise, as text now"])
    got = collection.get(ids=["noise"], include=["documents", "uris"])
    assert got["documents"] == ["noise, as text now"] and got["uris"] == [None]
