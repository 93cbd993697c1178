"""The embedding functions added for chromadb's full list: `huedb plugins` shows each with its
extra and whether that extra is installed, and a missing extra gives the pip command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

#: name -> (extra, the module its code imports first); None: needs no extra
NEW_EFS = {
    "bm25": (None, None),
    "huggingface_sparse": ("huggingface-sparse", "sentence_transformers"),
    "fastembed_sparse": ("fastembed", "fastembed"),
    "chroma-cloud-splade": ("chroma-cloud", "tenacity"),
    "instructor": ("instructor", "sentence_transformers"),
    "text2vec": ("text2vec", "text2vec"),
    "google_palm": (None, None),
}
HIDE = textwrap.dedent("""
    # sitecustomize: fastembed and text2vec look uninstalled to importlib.metadata
    import importlib.metadata as md
    _version = md.version
    def version(name):
        if name.lower() in ("fastembed", "text2vec"):
            raise md.PackageNotFoundError(name)
        return _version(name)
    md.version = version
""")


def plugin_rows(env=None):
    full = {k: v for k, v in os.environ.items() if k not in ("HUEDB_LOAD_PLUGINS", "HUEDB_STRICT_PLUGINS")}
    full.update(env or {})
    cmd = [sys.executable, "-m", "huedb.cli", "plugins", "--all", "--kind", "embedding_function"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=full, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {r["name"]: r for r in json.loads(proc.stdout)}


def test_plugins_lists_each_new_ef_with_its_extra(tmp_path):
    rows = plugin_rows()
    for name, (extra, _) in NEW_EFS.items():
        row = rows[name]
        assert row["kind"] == "embedding_function" and row["error"] is None, row
        assert row["extra"] == extra and row["installed"] is (True if extra else None), row  # [test] installs all
    (tmp_path / "sitecustomize.py").write_text(HIDE)
    hidden = plugin_rows({"PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))})
    assert hidden["fastembed_sparse"]["installed"] is False and hidden["text2vec"]["installed"] is False
    assert hidden["instructor"]["installed"] is True  # listed either way: discovery imports no SDK


@pytest.mark.parametrize("name", [n for n, (extra, _) in NEW_EFS.items() if extra])
def test_a_missing_extra_names_the_pip_command(name):
    extra, module = NEW_EFS[name]
    code = textwrap.dedent(f"""
        import sys
        sys.modules[{module!r}] = None  # the extra is not installed
        from huedb.registry import get_registry
        cls = get_registry().get("embedding_function", {name!r})
        config = {{"model_name": "org/model", "device": "cpu"}} if {name!r} != "chroma-cloud-splade" else {{}}
        try:
            cls.build_from_config(config)
        except Exception as e:
            print(type(e).__name__ + ": " + str(e))
    """)
    env = {**os.environ, "CHROMA_API_KEY": "k"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("MissingProviderPackage: ") and f"pip install 'huedb[{extra}]'" in proc.stdout
