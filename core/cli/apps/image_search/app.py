"""Image search on a multimodal huedb collection (offline colour embeddings)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

import huedb
from huedb import EmbeddingFunction, register_embedding_function
from huedb.utils.data_loaders import ImageLoader

HERE = Path(__file__).resolve().parent
COLOURS: dict[str, tuple] = {
    "red": (220, 30, 30),
    "green": (30, 180, 60),
    "blue": (30, 60, 220),
    "yellow": (240, 220, 40),
    "purple": (140, 40, 180),
    "orange": (250, 140, 20),
    "white": (245, 245, 245),
    "black": (15, 15, 15),
}
BINS = 4  # per channel: a 64-bin colour histogram


def _histogram(pixels: np.ndarray) -> np.ndarray:
    rgb = pixels[..., :3].reshape(-1, 3).astype(np.int64) * BINS // 256
    counts = np.bincount(rgb[:, 0] * BINS * BINS + rgb[:, 1] * BINS + rgb[:, 2], minlength=BINS**3).astype(np.float32)
    return counts / max(float(np.linalg.norm(counts)), 1e-9)


@register_embedding_function
class ColourEmbeddingFunction(EmbeddingFunction):
    """Images -> colour histogram; text -> the histogram of the colour words it names."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: list[Any]) -> list[np.ndarray]:
        out = []
        for item in input:
            if isinstance(item, str):
                words = [w for w in item.lower().split() if w in COLOURS] or ["white"]
                swatch = np.array([[COLOURS[w] for w in words]], dtype=np.uint8)
                out.append(_histogram(swatch))
            else:
                out.append(_histogram(np.asarray(item)))
        return out

    def supports_images(self) -> bool:
        return True

    @staticmethod
    def name() -> str:
        return "sample_colour_histogram"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ColourEmbeddingFunction:
        return ColourEmbeddingFunction()

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine", "l2", "ip"]


def draw_samples(folder: Path) -> None:
    """A few solid shapes on white, so the app has something to search."""
    from PIL import Image, ImageDraw

    folder.mkdir(exist_ok=True)
    for colour in ("red", "green", "blue", "yellow", "purple", "orange"):
        for shape in ("circle", "square"):
            img = Image.new("RGB", (64, 64), COLOURS["white"])
            draw = ImageDraw.Draw(img)
            box = (8, 8, 56, 56)
            (draw.ellipse if shape == "circle" else draw.rectangle)(box, fill=COLOURS[colour])
            img.save(folder / f"{colour}_{shape}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("text", nargs="?", help="colour words to search for")
    parser.add_argument("--image", help="search with an example image instead")
    parser.add_argument("-k", type=int, default=3)
    args = parser.parse_args()
    if not args.text and not args.image:
        parser.error("give colour words or --image PATH")
    images = HERE / "images"
    if not images.is_dir() or not any(images.glob("*.png")):
        draw_samples(images)
    client = huedb.PersistentClient(path=str(HERE / "data"))
    collection = client.get_or_create_collection(
        "image_search", embedding_function=ColourEmbeddingFunction(), data_loader=ImageLoader()
    )
    uris = sorted(str(p) for p in images.glob("*.png"))
    collection.upsert(ids=[Path(u).stem for u in uris], uris=uris)
    if args.image:
        result = collection.query(
            query_uris=[str(Path(args.image).resolve())], n_results=args.k, include=["uris", "distances"]
        )
    else:
        result = collection.query(query_texts=[args.text], n_results=args.k, include=["uris", "distances"])
    distances = result["distances"]
    assert distances is not None  # included above
    for rid, dist in zip(result["ids"][0], distances[0]):
        print(f"{rid}\t{dist:.3f}")


if __name__ == "__main__":
    main()
