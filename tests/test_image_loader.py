"""ImageLoader: real files written with pillow, loaded back through paths and file:// URIs."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from huedb.errors import InvalidArgumentError
from huedb_plugins.loaders.image import ImageLoader, ImageLoadError


def _image(seed: int, size=(6, 4)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)


@pytest.fixture
def pngs(tmp_path):
    paths = []
    for i in range(5):
        p = tmp_path / f"img {i}.png"  # a space, to exercise URI quoting
        Image.fromarray(_image(i)).save(p)
        paths.append(p)
    return paths


def test_loads_paths_and_file_uris_in_order(pngs):
    uris = [str(pngs[0]), pngs[1].as_uri(), None, str(pngs[2]), pngs[3], "file://localhost" + str(pngs[4])]
    out = ImageLoader(max_workers=3)(uris)
    assert out[2] is None
    for got, seed in zip([out[0], out[1], out[3], out[4], out[5]], range(5)):
        assert got.dtype == np.uint8 and got.shape == (4, 6, 3)
        np.testing.assert_array_equal(got, _image(seed))
    out[0][0, 0] = 0  # arrays are writable copies


def test_single_worker_and_empty(pngs):
    loader = ImageLoader(max_workers=1)
    assert loader([]) == []
    np.testing.assert_array_equal(loader([str(pngs[0])])[0], _image(0))


def test_palette_images_become_rgb(tmp_path):
    rgb = _image(7)
    p = tmp_path / "palette.gif"
    Image.fromarray(rgb).convert("P").save(p)
    (out,) = ImageLoader()([str(p)])
    assert out.shape == (4, 6, 3)
    np.testing.assert_array_equal(out, np.asarray(Image.open(p).convert("RGB")))


def test_grayscale_and_rgba_are_kept(tmp_path):
    gray = tmp_path / "g.png"
    Image.fromarray(_image(1)[..., 0]).save(gray)
    rgba = tmp_path / "a.png"
    Image.fromarray(np.dstack([_image(2), np.full((4, 6), 128, np.uint8)])).save(rgba)
    g, a = ImageLoader()([str(gray), str(rgba)])
    assert g.shape == (4, 6) and a.shape == (4, 6, 4)


def test_missing_file_names_the_uri(tmp_path):
    missing = str(tmp_path / "nope.png")
    with pytest.raises(ImageLoadError, match="nope.png.*does not exist"):
        ImageLoader()([missing])


def test_non_image_file_names_the_uri(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("not an image")
    with pytest.raises(InvalidArgumentError, match="notes.txt.*not an image"):
        ImageLoader()([str(p)])


def test_truncated_image_is_a_clear_error(tmp_path, pngs):
    p = tmp_path / "cut.png"
    p.write_bytes(pngs[0].read_bytes()[:60])
    with pytest.raises(ImageLoadError, match="cut.png"):
        ImageLoader()([str(p)])


def test_directory_is_rejected(tmp_path):
    with pytest.raises(ImageLoadError, match="directory"):
        ImageLoader()([str(tmp_path)])


def test_pixel_limit_guards_against_bombs(tmp_path):
    p = tmp_path / "big.png"
    Image.new("L", (200, 100)).save(p)
    with pytest.raises(ImageLoadError, match=r"200x100 = 20000 pixels.*limit of 10000"):
        ImageLoader(max_pixels=10_000)([str(p)])
    assert ImageLoader(max_pixels=20_000)([str(p)])[0].shape == (100, 200)
    assert ImageLoader(max_pixels=None)([str(p)])[0].shape == (100, 200)


def test_remote_and_bad_uris_are_rejected(pngs):
    loader = ImageLoader()
    with pytest.raises(ImageLoadError, match="local files only.*https"):
        loader(["https://example.com/cat.png"])
    with pytest.raises(ImageLoadError, match="this machine"):
        loader(["file://otherhost/cat.png"])
    with pytest.raises(ImageLoadError, match="non-empty strings"):
        loader([""])
    with pytest.raises(InvalidArgumentError, match="list of URIs"):
        loader(str(pngs[0]))


def test_invalid_arguments():
    with pytest.raises(InvalidArgumentError, match="max_workers"):
        ImageLoader(max_workers=0)
    with pytest.raises(InvalidArgumentError, match="max_pixels"):
        ImageLoader(max_pixels=-1)


def test_registered_as_a_plugin(fresh_registry):
    assert fresh_registry.get("data_loader", "image") is ImageLoader
    assert ImageLoader.name == "image"
