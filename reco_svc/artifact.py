"""A trained model as stored (one archive per version) and in memory.

The archive is an uncompressed tar of model.onnx, weights.npy, cooc.npy and meta.json, kept
in the artifact store under reco/<version>.tar (common/artifacts; the registry row holds its
location and sha256). The engine reads it into memory: no local disk on either side.
Versions registered before the artifact store have a folder of those four files instead.

The ONNX graph (reco_svc.onnx_graph.build_topk_graph) scores `x @ W`, masks with `allowed`
and takes the top k. W is square over inputs = items + context features:

    rows 0..n_items-1          item -> item weights (collaborative + co-occurrence + attributes)
    rows n_items..             context -> item priors: "pop:<age group>", "trend:<age group>",
                               "device:<device type>"; their columns are never allowed

so a user vector with only context features set (a new user) gets the age group's popular
and trending items, and the same graph serves everyone. weights.npy keeps W for the reasons
(which input contributed most); cooc.npy keeps the co-occurrence part for "children who
picked X also picked Y".

Big catalogs (model_assembly.DENSE_ITEMS) have a sparse W instead: inputs x items, each row its
strongest links, plus the collaborative model's low-rank part kept factored; the graph is
onnx_graph.build_sparse_topk_graph and the archive holds weights.npz and cooc.npz (scipy CSR)
in place of the .npy files. Serving reads both kinds alike (LoadedModel).
"""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

MODEL_FILE = "model.onnx"
META_FILE = "meta.json"
FILES = (MODEL_FILE, "weights.npy", "cooc.npy", META_FILE)
SPARSE_FILES = (MODEL_FILE, "weights.npz", "cooc.npz", META_FILE)
# How strongly each kind of context input is switched on in x (a pick is log1p(3) ≈ 1.4): a
# prior that orders items for a child without history, and that the child's own picks outweigh.
# "attr" is not an input: it is the factor that puts serving-time attribute scores (items newer
# than the model) on the scale of the model's attribute part (ATTR_WEIGHT / its scale).
DEFAULT_INPUT_WEIGHTS = {"pop": 0.3, "trend": 0.2, "device": 0.1, "attr": 0.3}


@dataclass
class ModelArtifact:
    version: str
    items: list[str]  # "kind:id" per item index
    contexts: list[str]  # context feature names, indices n_items.. in W
    # float32 [n_items + n_contexts, n_items + n_contexts], or sparse [n_items + n_contexts, n_items]
    weights: np.ndarray | sp.csr_matrix
    cooc: np.ndarray | sp.csr_matrix  # [n_items, n_items]: the co-occurrence component of W (weighted)
    input_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_INPUT_WEIGHTS))
    metrics: dict[str, float] = field(default_factory=dict)
    description: str = ""
    created_at: str = ""
    tuning: dict[str, object] = field(default_factory=dict)  # what training's tuning chose, and why
    # Sparse W only: the collaborative model's low-rank part, (left [inputs, r], right [r, items]).
    low_rank: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def sparse(self) -> bool:
        return sp.issparse(self.weights)

    def graph(self) -> bytes:
        from reco_svc.onnx_graph import build_sparse_topk_graph, build_topk_graph, padded_rows

        if not self.sparse:
            return build_topk_graph(self.weights).SerializeToString()
        width = max(int(np.diff(self.weights.indptr).max(initial=0)), 1)
        columns, values = padded_rows(self.weights, width)
        left, right = self.low_rank if self.low_rank is not None else (None, None)
        return build_sparse_topk_graph(columns, values, len(self.items), left, right).SerializeToString()

    def key(self) -> str:
        """Its key in the artifact store."""
        return f"reco/{self.version}.tar"

    def to_bytes(self) -> bytes:
        """The archive: every file of the version in one object, written to the store at once."""
        meta = {
            "version": self.version,
            "items": self.items,
            "contexts": self.contexts,
            "input_weights": self.input_weights,
            "metrics": self.metrics,
            "description": self.description,
            "created_at": self.created_at,
            "tuning": self.tuning,
        }
        if self.sparse:
            files = {
                MODEL_FILE: self.graph(),
                "weights.npz": _npz(self.weights),
                "cooc.npz": _npz(self.cooc),
                META_FILE: json.dumps(meta, indent=1).encode(),
            }
        else:
            files = {
                MODEL_FILE: self.graph(),
                "weights.npy": _npy(self.weights),
                "cooc.npy": _npy(self.cooc),
                META_FILE: json.dumps(meta, indent=1).encode(),
            }
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w") as archive:
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
        return out.getvalue()


def _npy(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array.astype(np.float32), allow_pickle=False)
    return out.getvalue()


def _npz(matrix: sp.csr_matrix) -> bytes:
    out = io.BytesIO()
    sp.save_npz(out, sp.csr_matrix(matrix, dtype=np.float32), compressed=False)
    return out.getvalue()


@dataclass
class LoadedModel:
    """A model ready to serve: the onnxruntime session plus what serving needs around it."""

    version: str
    items: list[str]
    contexts: list[str]
    input_weights: dict[str, float]
    weights: np.ndarray | sp.csr_matrix
    cooc: np.ndarray | sp.csr_matrix
    session: object  # onnxruntime.InferenceSession
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for matrix in (self.weights, self.cooc):
            if sp.issparse(matrix):
                matrix.sort_indices()  # weight() and weights_into() search the indices
        names = [*self.items, *self.contexts]
        self.index = {name: i for i, name in enumerate(names)}

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_inputs(self) -> int:
        return len(self.items) + len(self.contexts)

    @property
    def sparse(self) -> bool:
        return sp.issparse(self.weights)

    def topk(
        self, x: np.ndarray, allowed: np.ndarray, k: int, nonzero: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scores x @ W for one input vector x, masked by each row of `allowed`; the top k.
        nonzero: np.flatnonzero(x) when the caller knows it already (x is mostly zeros)."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float32))[0]
        if self.sparse:
            inputs = np.flatnonzero(x) if nonzero is None else nonzero
            allowed = np.ascontiguousarray(allowed[:, : self.n_items])  # the graph scores items only
            feeds = {"inputs": inputs, "values": x[inputs].astype(np.float32), "allowed": allowed}
        else:
            feeds = {"x": np.tile(x, (allowed.shape[0], 1)), "allowed": allowed}
        values, indices = self.session.run(  # type: ignore[attr-defined]
            None, {**feeds, "k": np.array([k], dtype=np.int64)}
        )
        return values, indices

    def weights_into(self, inputs: np.ndarray, item: int) -> np.ndarray:
        """W[inputs, item]: how much each input gives the item (the reasons)."""
        return self.weights_into_many(inputs, [item])[0]

    def weights_into_many(self, inputs: np.ndarray, items: list[int]) -> np.ndarray:
        """W[inputs, item] for each item, one row per item: [len(items), len(inputs)]."""
        if not self.sparse:
            return self.weights[np.ix_(inputs, items)].T
        # The inputs' rows of the CSR matrix (each contiguous, its columns sorted) as one sorted
        # array of (row among the inputs, column) keys: one search finds every wanted entry.
        matrix, n_columns = self.weights, self.weights.shape[1]
        inputs = np.asarray(inputs, dtype=np.int64)
        starts = matrix.indptr[inputs].astype(np.int64)
        lengths = matrix.indptr[inputs + 1] - starts
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        at = offsets + np.arange(offsets.size)
        keys = np.repeat(np.arange(inputs.size), lengths) * n_columns + matrix.indices[at]
        wanted = np.arange(inputs.size)[None, :] * n_columns + np.asarray(items, dtype=np.int64)[:, None]
        found = np.zeros(wanted.shape, dtype=np.float32)
        if keys.size:
            position = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
            hit = keys[position] == wanted
            found[hit] = matrix.data[at[position[hit]]]
        return found

    def weight(self, source: int, item: int) -> float:
        return _entry(self.weights, source, item)

    def cooc_weight(self, source: int, item: int) -> float:
        return _entry(self.cooc, source, item)


def _entry(matrix: np.ndarray | sp.csr_matrix, row: int, column: int) -> float:
    if not sp.issparse(matrix):
        return float(matrix[row, column])
    start, end = matrix.indptr[row], matrix.indptr[row + 1]
    columns = matrix.indices[start:end]
    at = int(np.searchsorted(columns, column))
    return float(matrix.data[start + at]) if at < columns.size and columns[at] == column else 0.0


def session_from(model_bytes_or_path: bytes | str) -> object:
    from common.onnx_runtime import ort
    from reco_svc.onnx_graph import with_exact_integer_products

    options = ort.SessionOptions()
    # One thread per call: requests are tiny, parallelism comes from concurrent calls.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if isinstance(model_bytes_or_path, str):
        model_bytes_or_path = Path(model_bytes_or_path).read_bytes()
    graph = with_exact_integer_products(model_bytes_or_path)
    return ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


def from_bytes(data: bytes) -> LoadedModel:
    """A model from its archive (to_bytes); ValueError when a file is missing or unreadable."""
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            for member in archive.getmembers():
                if member.name in {*FILES, *SPARSE_FILES} and member.isfile():
                    files[member.name] = archive.extractfile(member).read()  # type: ignore[union-attr]
    except tarfile.TarError as exc:
        raise ValueError(f"not a model archive: {exc}") from exc
    if "weights.npz" in files:
        missing = [name for name in SPARSE_FILES if name not in files]
        if missing:
            raise ValueError(f"model archive without {', '.join(missing)}")
        return _loaded(
            json.loads(files[META_FILE]),
            sp.load_npz(io.BytesIO(files["weights.npz"])).tocsr(),
            sp.load_npz(io.BytesIO(files["cooc.npz"])).tocsr(),
            files[MODEL_FILE],
        )
    missing = [name for name in FILES if name not in files]
    if missing:
        raise ValueError(f"model archive without {', '.join(missing)}")
    return _loaded(
        json.loads(files[META_FILE]),
        np.load(io.BytesIO(files["weights.npy"]), allow_pickle=False),
        np.load(io.BytesIO(files["cooc.npy"]), allow_pickle=False),
        files[MODEL_FILE],
    )


def load_folder(folder: Path) -> LoadedModel:
    """A version registered before the artifact store: its folder of the same four files."""
    folder = Path(folder)
    return _loaded(
        json.loads((folder / META_FILE).read_text(encoding="utf-8")),
        np.load(folder / "weights.npy"),
        np.load(folder / "cooc.npy"),
        str(folder / MODEL_FILE),
    )


def _loaded(meta: dict, weights, cooc, graph: bytes | str) -> LoadedModel:
    return LoadedModel(
        version=meta["version"],
        items=meta["items"],
        contexts=meta["contexts"],
        input_weights=meta.get("input_weights", DEFAULT_INPUT_WEIGHTS),
        weights=weights,
        cooc=cooc,
        session=session_from(graph),
    )


def in_memory(artifact: ModelArtifact) -> LoadedModel:
    """Serve an artifact without writing it (the bootstrap model before any training)."""
    return LoadedModel(
        version=artifact.version,
        items=artifact.items,
        contexts=artifact.contexts,
        input_weights=artifact.input_weights,
        weights=artifact.weights,
        cooc=artifact.cooc,
        session=session_from(artifact.graph()),
    )
