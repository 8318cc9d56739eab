"""DNN backbones by layer shapes, and a small builder to compose them into multi-model
(MMMT) workloads.

Shapes follow SPEC §1: conv ``M`` out channels, ``N`` in channels, ``R×C`` output
rows × cols, kernel ``K``, stride ``S``, padding ``P``; ``dwconv``/``pool``/``eltwise``
``N @ R×C``; ``fc`` ``M×N``; ``lstm`` hidden ``H``, input ``D``, steps ``T``; ``matmul``
``m×k×n`` (``weights`` when the right operand is a learned matrix).  Sources of the
shapes: VGG-16 (Simonyan & Zisserman 2015, configuration D), ResNet-18/50 (He et al.
2016, Table 1), MobileNetV2 (Sandler et al. 2018, Table 2), a Transformer encoder block
with BERT-base sizes (Devlin et al. 2019: d = 768, 12 heads, FFN 3072, 128 tokens), and
a two-layer LSTM speech model on 40 filter-bank features (H = 512, 100 frames).
"""

from __future__ import annotations

from typing import Any

from ..model import Edge, Layer

__all__ = ["BACKBONES", "Net"]


class Net:
    """Accumulates layers and data edges of one or more models.  Every method returns
    the new layer's id; ``src`` names its producer(s) (none: a source layer reading
    its input from the host)."""

    def __init__(self) -> None:
        self.layers: list[Layer] = []
        self.edges: list[Edge] = []
        self.ids: set[str] = set()

    def add(self, lid: str, op: str, model: str, shape: dict[str, Any],
            src: str | list[str] | None) -> str:
        if lid in self.ids:
            raise ValueError(f"duplicate layer id {lid!r}")
        self.ids.add(lid)
        self.layers.append(Layer(id=lid, op=op, model=model, shape=shape))
        for u in [src] if isinstance(src, str) else (src or []):
            self.edges.append(Edge(u, lid))
        return lid

    def conv(self, lid: str, model: str, src: Any, m: int, n: int, r: int, k: int = 3,
             s: int = 1, p: int | None = None, c: int | None = None) -> str:
        return self.add(lid, "conv", model, {"M": m, "N": n, "R": r, "C": c or r, "K": k,
                                             "S": s, "P": k // 2 if p is None else p}, src)

    def dw(self, lid: str, model: str, src: Any, n: int, r: int, k: int = 3, s: int = 1) -> str:
        return self.add(lid, "dwconv", model, {"N": n, "R": r, "C": r, "K": k, "S": s,
                                               "P": k // 2}, src)

    def pool(self, lid: str, model: str, src: Any, n: int, r: int, k: int, s: int) -> str:
        return self.add(lid, "pool", model, {"N": n, "R": r, "C": r, "K": k, "S": s,
                                             "P": 0}, src)

    def add_(self, lid: str, model: str, srcs: list[str], n: int, r: int) -> str:
        return self.add(lid, "eltwise", model, {"N": n, "R": r, "C": r,
                                                "inputs": len(srcs)}, srcs)

    def fc(self, lid: str, model: str, src: Any, m: int, n: int) -> str:
        return self.add(lid, "fc", model, {"M": m, "N": n}, src)

    def matmul(self, lid: str, model: str, src: Any, m: int, k: int, n: int,
               weights: bool) -> str:
        return self.add(lid, "matmul", model, {"m": m, "k": k, "n": n, "weights": weights},
                        src)

    def lstm(self, lid: str, model: str, src: Any, h: int, d: int, t: int) -> str:
        return self.add(lid, "lstm", model, {"H": h, "D": d, "T": t}, src)


# ----------------------------------------------------------------------- backbones
# Each builder adds one backbone under ``model`` with ids prefixed by ``p`` and returns
# the id of its last feature layer (before the classifier) and the classifier, if any.

def vgg16(net: Net, model: str, p: str, src: Any = None, in_ch: int = 3, size: int = 224,
          classifier: bool = True) -> str:
    cfg = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]
    last, ch, r = src, in_ch, size
    for b, (m, reps) in enumerate(cfg, start=1):
        for i in range(1, reps + 1):
            last = net.conv(f"{p}conv{b}_{i}", model, last, m, ch, r)
            ch = m
        r //= 2
        last = net.pool(f"{p}pool{b}", model, last, ch, r, 2, 2)
    if classifier:
        last = net.fc(f"{p}fc6", model, last, 4096, ch * r * r)
        last = net.fc(f"{p}fc7", model, last, 4096, 4096)
        last = net.fc(f"{p}fc8", model, last, 1000, 4096)
    return last


def _basic_block(net: Net, model: str, q: str, src: str, n: int, w: int, r: int,
                 stride: int) -> tuple[str, int]:
    a = net.conv(f"{q}a", model, src, w, n, r, 3, stride)
    b = net.conv(f"{q}b", model, a, w, w, r)
    short = src
    if stride != 1 or n != w:
        short = net.conv(f"{q}down", model, src, w, n, r, 1, stride, 0)
    return net.add_(f"{q}add", model, [b, short], w, r), w


def _bottleneck(net: Net, model: str, q: str, src: str, n: int, w: int, r: int,
                stride: int) -> tuple[str, int]:
    a = net.conv(f"{q}a", model, src, w, n, r, 1, 1, 0)
    b = net.conv(f"{q}b", model, a, w, w, r, 3, 1)
    c = net.conv(f"{q}c", model, b, 4 * w, w, r, 1, 1, 0)
    short = src
    if stride != 1 or n != 4 * w:
        short = net.conv(f"{q}down", model, src, 4 * w, n, r, 1, stride, 0)
    return net.add_(f"{q}add", model, [c, short], 4 * w, r), 4 * w


def _resnet(net: Net, model: str, p: str, src: Any, in_ch: int, size: int, stages: int,
            classifier: bool, block: Any, reps: tuple[int, ...]) -> str:
    """Stem (7x7/2 conv, 3x3/2 max pool), ``stages`` stages of ``block`` with widths
    64..512 (the first block of stages 2-4 strides by 2), average pool and classifier."""
    r = (size + 1) // 2
    last = net.conv(f"{p}conv1", model, src, 64, in_ch, r, 7, 2, 3)
    r = (r + 1) // 2  # 3x3/2 with padding 1: ceil(r/2)
    last = net.pool(f"{p}maxpool", model, last, 64, r, 3, 2)
    ch = 64
    for stage, (w, n) in enumerate(zip((64, 128, 256, 512), reps, strict=True), start=1):
        if stage > stages:
            break
        for blk in range(1, n + 1):
            stride = 2 if stage > 1 and blk == 1 else 1
            r = (r + 1) // 2 if stride == 2 else r
            last, ch = block(net, model, f"{p}l{stage}b{blk}", last, ch, w, r, stride)
    if classifier and stages == 4:
        last = net.pool(f"{p}avgpool", model, last, ch, 1, r, 1)
        last = net.fc(f"{p}fc", model, last, 1000, ch)
    return last


def resnet18(net: Net, model: str, p: str, src: Any = None, in_ch: int = 3,
             size: int = 224, stages: int = 4, classifier: bool = True) -> str:
    return _resnet(net, model, p, src, in_ch, size, stages, classifier, _basic_block,
                   (2, 2, 2, 2))


def resnet50(net: Net, model: str, p: str, src: Any = None, in_ch: int = 3,
             size: int = 224, classifier: bool = True) -> str:
    return _resnet(net, model, p, src, in_ch, size, 4, classifier, _bottleneck, (3, 4, 6, 3))


def mobilenet_v2(net: Net, model: str, p: str, src: Any = None, in_ch: int = 3,
                 size: int = 224, classifier: bool = True) -> str:
    r = (size + 1) // 2
    last = net.conv(f"{p}conv1", model, src, 32, in_ch, r, 3, 2)
    ch = 32
    cfg = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
           (6, 160, 3, 2), (6, 320, 1, 1)]
    k = 0
    for t, c, n, s in cfg:
        for i in range(n):
            k += 1
            stride = s if i == 0 else 1
            q = f"{p}ir{k}"
            x = last
            hidden = ch * t
            if t != 1:
                x = net.conv(f"{q}exp", model, x, hidden, ch, r, 1, 1, 0)
            r_out = (r + stride - 1) // stride
            x = net.dw(f"{q}dw", model, x, hidden, r_out, 3, stride)
            x = net.conv(f"{q}proj", model, x, c, hidden, r_out, 1, 1, 0)
            if stride == 1 and ch == c:
                x = net.add_(f"{q}add", model, [x, last], c, r_out)
            last, ch, r = x, c, r_out
    last = net.conv(f"{p}conv_last", model, last, 1280, ch, r, 1, 1, 0)
    if classifier:
        last = net.pool(f"{p}avgpool", model, last, 1280, 1, r, 1)
        last = net.fc(f"{p}fc", model, last, 1000, 1280)
    return last


def lstm_speech(net: Net, model: str, p: str, src: Any = None, features: int = 40,
                frames: int = 100, hidden: int = 512, outputs: int = 29) -> str:
    a = net.lstm(f"{p}lstm1", model, src, hidden, features, frames)
    b = net.lstm(f"{p}lstm2", model, a, hidden, hidden, frames)
    return net.matmul(f"{p}out", model, b, frames, hidden, outputs, True)


def transformer_block(net: Net, model: str, p: str, src: Any = None, tokens: int = 128,
                      d: int = 768, heads: int = 12, ffn: int = 3072) -> str:
    dh = d // heads
    q = net.matmul(f"{p}q", model, src, tokens, d, d, True)
    k = net.matmul(f"{p}k", model, src, tokens, d, d, True)
    v = net.matmul(f"{p}v", model, src, tokens, d, d, True)
    scores = net.matmul(f"{p}scores", model, [q, k], heads * tokens, dh, tokens, False)
    soft = net.add(f"{p}softmax", "eltwise", model,
                   {"N": heads, "R": tokens, "C": tokens, "inputs": 1}, scores)
    ctx = net.matmul(f"{p}context", model, [soft, v], heads * tokens, tokens, dh, False)
    out = net.matmul(f"{p}proj", model, ctx, tokens, d, d, True)
    res1 = net.add(f"{p}add1", "eltwise", model, {"N": 1, "R": tokens, "C": d},
                   [out] if src is None else [out, src])
    f1 = net.matmul(f"{p}ffn1", model, res1, tokens, d, ffn, True)
    f2 = net.matmul(f"{p}ffn2", model, f1, tokens, ffn, d, True)
    return net.add(f"{p}add2", "eltwise", model, {"N": 1, "R": tokens, "C": d}, [f2, res1])


#: name -> builder(net, model, prefix, ...) -> last layer id
BACKBONES = {
    "vgg16": vgg16,
    "resnet18": resnet18,
    "resnet50": resnet50,
    "mobilenet_v2": mobilenet_v2,
    "lstm_speech": lstm_speech,
    "transformer_block": transformer_block,
}
