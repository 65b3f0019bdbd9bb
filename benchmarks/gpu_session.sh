#!/usr/bin/env bash
# A lent-GPU session (see docs/benchmarks.md): unpack the carried data, smoke-test fit() on
# CUDA, measure throughput against a plain loop, then train variants side by side on the one GPU.
#   bash benchmarks/gpu_session.sh BUDGET VARIANT...      (data carried in .gpu/, results to $OUT)
# .gpu/ holds fmnist/ (the Debian dataset-fashion-mnist files), cifar.tar.xz (the course's
# JPEG tar, xz-compressed to travel) and fonts.tar.xz (benchmarks/pack_fonts.py: the alnum52
# fonts cut down to the 52 glyphs, from which the alnum52 sets are rendered here on all cores,
# skipped when already rendered); none is committed. Runs write to .gpu/runs/NAME, so a
# later session that carries .gpu/runs back resumes them (BUDGET is the total, as in fit()).
set -uo pipefail
budget="$1"; shift
out="${OUT:-/tmp/gpu-out}"; mkdir -p "$out"
export PYTHONPATH="$PWD/src" PYTHONUNBUFFERED=1 OMP_NUM_THREADS=4
mkdir -p ../shared/data /usr/share/datasets/fashion-mnist
# Images travel xz-compressed (smaller than the Debian gzip files); labels as they are.
for f in $( [ -d .gpu/fmnist ] && echo .gpu/fmnist/* ); do
  case "$f" in
    *.xz) xz -dc "$f" | gzip -1 > "/usr/share/datasets/fashion-mnist/$(basename "${f%.xz}").gz" ;;
    *) cp "$f" /usr/share/datasets/fashion-mnist/ ;;
  esac
done
[ -f .gpu/cifar.tar.xz ] && xz -dc .gpu/cifar.tar.xz > ../shared/data/cifar10_jpeg_q75.tar
if [ -f .gpu/fonts.tar.xz ]; then
  # The same sizes and counts as the local sets (docs/benchmarks.md), so the valid split is the
  # same 145 families the shipped weights are measured on.
  mkdir -p /tmp/alnum52-fonts data && tar -C /tmp/alnum52-fonts -xJf .gpu/fonts.tar.xz
  render() { python3 -m alnumzoo.cli render-alnum52 "$@" --fonts /tmp/alnum52-fonts/fonts --quiet; }
  render data/alnum52_48 --size 48 --train-per-class 2000 &&
    render data/alnum52 --size 100 --train-per-class 1500 || exit 1
fi
nvidia-smi --query-gpu=timestamp,name,utilization.gpu,memory.used --format=csv -l 2 \
  > "$out/nvidia_smi.csv" &
[ "${SKIP_SMOKE:-0}" = 1 ] || python3 - <<'PY' || exit 1
import torch, alnumzoo
from alnumzoo.data import FashionMNIST
print(torch.__version__, torch.cuda.get_device_name())
import os
if os.path.exists("data/alnum52_48/manifest.json"):  # an alnum52 session carries no Fashion-MNIST
    from alnumzoo.data import Alnum52Rendered
    model = alnumzoo.create_model("lite_resnet", input_size=(48, 48))
    train, val = Alnum52Rendered("data/alnum52_48", "train"), Alnum52Rendered("data/alnum52_48", "valid")
else:
    model = alnumzoo.create_model("crnn")
    train, val = FashionMNIST(split="train"), FashionMNIST(split="val")
h = alnumzoo.fit(model, train, val, budget="15s", progress=False)
r = h.records[-1]
print(f"smoke: {h.device} {h.precision} cl={h.channels_last} epochs={len(h.records)} "
      f"img/s={r.images_per_s:.0f} val={r.val_acc}")
PY
if [ "${SKIP_THROUGHPUT:-0}" != 1 ]; then
  timeout 150 python3 benchmarks/throughput.py --device cuda --steps 300 \
    --json "$out/throughput_cuda.json"
fi
pids=()
for name in "$@"; do
  mkdir -p ".gpu/runs/$name"
  python3 benchmarks/train_pretrained.py "$name" --out .gpu/runs --budget "$budget" \
    >> ".gpu/runs/$name/train.log" 2>&1 &
  pids+=($!)
done
wait "${pids[@]}"
kill %1 2>/dev/null
for name in "$@"; do
  echo "== $name"; grep -E '"top1|"epochs|"train_s|Error' ".gpu/runs/$name/train.log" | tail -n 5
  tar -C .gpu/runs -cf "$out/$name.tar" "$name"
done
