"""Golden values for Tests/TRMModelTests/GoldenReferenceTests.swift from the PyTorch reference TRM.

The Swift test writes its model's initial weights (fixed seed) as safetensors when run with
TRM_GOLDEN_WEIGHTS=DIR; this script loads them into ../shared/bench/trm_torch.py's TRM (same
architecture: post-norm blocks, RMSNorm eps 1e-5, SwiGLU, rotary attention or the sequence MLP,
no prefix, halting head on position 0), runs two supervision steps on fixed tokens, and writes
logits, halting logits and the loss (softmax CE + 0.5 BCE) as JSON.

  pip install "torch==2.13.0+cpu"     # CPU wheel from the local wheel folder
  TRM_GOLDEN_WEIGHTS=/tmp/golden swift test -c release --disable-swift-testing --filter GoldenReferenceTests
  python3 Benchmarks/golden/make_golden.py --weights /tmp/golden --bench ../shared/bench \
      --out Tests/TRMModelTests/Golden
"""
import argparse, json, os, struct, sys

import torch
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info
        a, b = info["data_offsets"]
        out[name] = torch.frombuffer(bytearray(body[a:b]), dtype=torch.float32).reshape(info["shape"])
    return out, header.get("__metadata__", {})


def load_into(model, w, mlp_t):
    """Our dotted names -> the reference module's parameters."""
    sd = {"embed.weight": w["embedding.weight"], "lm_head.weight": w["lmHead.weight"],
          "q_head.weight": w["haltHead.weight"], "q_head.bias": w["haltHead.bias"],
          "y_init": w["buffers.yInit"], "z_init": w["buffers.zInit"]}
    for i in range(len(model.blocks)):
        ours, ref = f"net.blocks.{i}", f"blocks.{i}"
        if mlp_t:
            sd[f"{ref}.mix.gate_up.weight"] = w[f"{ours}.mixer.gateUp.weight"]
            sd[f"{ref}.mix.down.weight"] = w[f"{ours}.mixer.down.weight"]
        else:
            sd[f"{ref}.attn.qkv.weight"] = w[f"{ours}.mixer.qkv.weight"]
            sd[f"{ref}.attn.o.weight"] = w[f"{ours}.mixer.out.weight"]
        sd[f"{ref}.mlp.gate_up.weight"] = w[f"{ours}.mlp.gateUp.weight"]
        sd[f"{ref}.mlp.down.weight"] = w[f"{ours}.mlp.down.weight"]
    own = model.state_dict()
    for k, v in sd.items():
        assert own[k].shape == v.shape, (k, own[k].shape, v.shape)
        own[k] = v
    missing = [k for k in own if k not in sd and k not in ("cos", "sin")]
    assert not missing, missing
    model.load_state_dict(own)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True, help="directory with trm-attn.safetensors and trm-mlp.safetensors")
    ap.add_argument("--bench", default="../shared/bench")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    sys.path.insert(0, os.path.abspath(a.bench))
    from trm_torch import TRM  # noqa: E402

    torch.set_num_threads(1)
    for variant in ["attn", "mlp"]:
        w, meta = read_safetensors(os.path.join(a.weights, f"trm-{variant}.safetensors"))
        cfg = json.loads(meta["model"])
        V, L, H = cfg["vocabSize"], cfg["sequenceLength"], cfg["width"]
        model = TRM(V, H, L, variant == "mlp", n=cfg["latentSteps"], T=cfg["recursions"], layers=cfg["blocks"])
        load_into(model, w, variant == "mlp")
        g = torch.Generator().manual_seed(7)
        B = 3
        tokens = torch.randint(1, V, (B, L), generator=g)
        labels = torch.randint(2, V, (B, L), generator=g)
        y = model.y_init.expand(B, L, H).clone()
        z = model.z_init.expand(B, L, H).clone()
        rec = {"tokens": tokens.flatten().tolist(), "labels": labels.flatten().tolist(), "steps": [],
               "torch": torch.__version__}
        with torch.no_grad():
            for _ in range(2):
                y, z, logits, q = model(tokens, y, z)
                ce = F.cross_entropy(logits.reshape(-1, V), labels.reshape(-1))
                correct = (logits.argmax(-1) == labels).all(-1).float()
                loss = ce + 0.5 * F.binary_cross_entropy_with_logits(q, correct)
                rec["steps"].append({"logits": logits.flatten().tolist(), "halt_logits": q.tolist(),
                                     "loss": loss.item()})
        path = os.path.join(a.out, f"trm-{variant}.json")
        with open(path, "w") as f:
            json.dump(rec, f)
        print("wrote", path)


if __name__ == "__main__":
    main()
