"""OpenCLIP: text and images embedded into one normalised space (open-clip-torch).

torch, open_clip and pillow are imported on first construction, so this
plugin is listed (and cheap to import) without the ``huedb[clip]`` extra.
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from huedb.embedding_functions import Embeddable, EmbeddingFunction, Embeddings
from huedb.errors import ChromaError, InvalidArgumentError
from huedb.hookspecs import hookimpl

BATCH_SIZE = 32  # inputs per forward pass: bounds memory on CPU
#: what OpenCLIP's architecture names and pretrained tags look like ("ViT-B-32", "laion2b_s34b_b79k")
_CATALOGUE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]*")


class OpenCLIPEmbeddingFunction(EmbeddingFunction[Embeddable]):
    """Embeds ``str`` texts and HxW / HxWxC uint8 numpy images with an OpenCLIP model.

    ``checkpoint=None`` (or ``""``) builds the model with random weights (no
    download): useful for tests, meaningless for search. It is persisted as
    ``""`` because the config schema (shared with chromadb) requires a string.
    """

    extra = "clip"  # the huedb extra that installs its packages (huedb plugins lists it)

    def __init__(
        self,
        model_name: str = "ViT-B-32",
        checkpoint: str | None = "laion2b_s34b_b79k",
        device: str | None = "cpu",
    ) -> None:
        try:
            import open_clip
            import torch
            from PIL import Image
        except ImportError as e:
            raise InvalidArgumentError(
                f"OpenCLIPEmbeddingFunction needs the open-clip-torch package (and torch, pillow): "
                f"pip install 'huedb[clip]' (missing: {e.name or e})"
            ) from e
        if not isinstance(model_name, str) or not model_name:
            raise InvalidArgumentError(f"model_name must be a non-empty string, got {model_name!r}")
        # hf-hub:/local-dir: names point at a model config outside open_clip's list.
        if not model_name.startswith(("hf-hub:", "local-dir:")) and model_name not in open_clip.list_models():
            raise InvalidArgumentError(
                f"Unknown OpenCLIP model {model_name!r}; open_clip.list_models() lists the valid names "
                f"(e.g. 'ViT-B-32')."
            )
        self._torch = torch
        self._Image = Image
        self.model_name = model_name
        self.checkpoint = checkpoint
        self.device = device
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(
                model_name, pretrained=checkpoint or None, device=device or "cpu"
            )
        except RuntimeError as e:
            raise InvalidArgumentError(
                f"OpenCLIP could not load model {model_name!r} with checkpoint {checkpoint!r}: {e}. "
                f"open_clip.list_pretrained() lists valid (model, checkpoint) pairs."
            ) from e
        except OSError as e:  # the checkpoint download or cache read failed
            raise ChromaError(
                f"OpenCLIP could not fetch checkpoint {checkpoint!r} for {model_name!r}: {e}. "
                f"The first use downloads the weights; check network access or the Hugging Face cache."
            ) from e
        model.eval()
        self._model = model
        self._preprocess = preprocess
        self._tokenizer = open_clip.get_tokenizer(model_name)

    # -- embedding -------------------------------------------------------
    def __call__(self, input: Embeddable | str) -> Embeddings:
        items = [input] if isinstance(input, str) else list(input)
        if not items:
            return []
        is_text = np.fromiter((isinstance(x, str) for x in items), dtype=bool, count=len(items))
        for i in np.flatnonzero(~is_text):
            _check_image(items[i], int(i))
        parts = []
        text_idx, image_idx = np.flatnonzero(is_text), np.flatnonzero(~is_text)
        if text_idx.size:
            parts.append((text_idx, self._encode([items[i] for i in text_idx], self._encode_texts)))
        if image_idx.size:
            parts.append((image_idx, self._encode([items[i] for i in image_idx], self._encode_images)))
        out = np.empty((len(items), parts[0][1].shape[1]), dtype=np.float32)
        for idx, vecs in parts:
            out[idx] = vecs
        return list(out)

    def _encode(self, values: list[Any], encode: Any) -> np.ndarray:
        torch = self._torch
        chunks = []
        with torch.inference_mode():
            for start in range(0, len(values), BATCH_SIZE):
                features = encode(values[start : start + BATCH_SIZE]).float()
                features = features / features.norm(dim=-1, keepdim=True)
                chunks.append(features.cpu().numpy())
        return np.concatenate(chunks, axis=0).astype(np.float32, copy=False)

    def _encode_texts(self, texts: list[str]) -> Any:
        return self._model.encode_text(self._tokenizer(texts).to(self.device or "cpu"))

    def _encode_images(self, images: list[np.ndarray]) -> Any:
        batch = self._torch.stack([self._preprocess(self._Image.fromarray(_squeeze(img))) for img in images])
        return self._model.encode_image(batch.to(self.device or "cpu"))

    # -- config ----------------------------------------------------------
    @staticmethod
    def name() -> str:
        return "open_clip"

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine", "l2", "ip"]

    def supports_images(self) -> bool:
        return True

    def get_config(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "checkpoint": self.checkpoint or "", "device": self.device}

    @classmethod
    def persisted_config_problem(cls, config: dict[str, Any]) -> str | None:
        # open_clip loads an ``hf-hub:``/``local-dir:`` model, or a checkpoint that is a
        # file path or URL, as given: a pickled checkpoint runs code when loaded. A persisted
        # config may only name OpenCLIP's own architectures and pretrained tags.
        for field, default in (("model_name", "ViT-B-32"), ("checkpoint", "")):
            value = config.get(field) or default
            if value and not (
                isinstance(value, str) and _CATALOGUE_NAME.fullmatch(value) and not os.path.exists(value)
            ):
                return (
                    f"{field} {value!r}, which is not an OpenCLIP catalogue name (open_clip.list_models() / "
                    f"list_pretrained()): a hub repo, file path or URL would make this client load weights "
                    f"the collection's creator chose"
                )
        return None

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OpenCLIPEmbeddingFunction:
        return OpenCLIPEmbeddingFunction(
            model_name=config.get("model_name", "ViT-B-32"),
            checkpoint=config.get("checkpoint") or None,
            device=config.get("device", "cpu"),
        )

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        for field in ("model_name", "checkpoint"):
            if field in new_config and (new_config[field] or "") != (old_config.get(field) or ""):
                raise InvalidArgumentError(
                    f"The {field} of an OpenCLIP embedding function cannot change ({old_config.get(field)!r} -> "
                    f"{new_config[field]!r}): stored vectors would no longer match. Create a new collection instead."
                )


def _check_image(x: Any, position: int) -> None:
    ok = isinstance(x, np.ndarray) and (x.ndim == 2 or (x.ndim == 3 and x.shape[2] in (1, 3, 4)))
    if not ok:
        raise InvalidArgumentError(
            f"OpenCLIPEmbeddingFunction embeds text (str) or images (HxW or HxWx1/3/4 numpy arrays): "
            f"input[{position}] is {type(x).__name__}{getattr(x, 'shape', '')}."
        )
    if x.dtype != np.uint8:
        raise InvalidArgumentError(
            f"input[{position}] is an image of dtype {x.dtype}; expected uint8 pixels (0-255). "
            f"Convert with (img * 255).clip(0, 255).astype(np.uint8) if it holds floats in [0, 1]."
        )
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise InvalidArgumentError(f"input[{position}] is an empty image (shape {x.shape}).")


def _squeeze(img: np.ndarray) -> np.ndarray:
    return img[..., 0] if img.ndim == 3 and img.shape[2] == 1 else img


@hookimpl
def register_embedding_functions(register):
    register(OpenCLIPEmbeddingFunction)
