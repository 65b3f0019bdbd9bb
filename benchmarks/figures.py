"""Draw the docs' pictures from the training runs and the shipped weights.

    python benchmarks/figures.py [--runs runs] [--out docs/img]

* ``curves_<name>.png``: ``History.plot()`` of each run in ``runs/`` (from its checkpoint);
* ``alnum52_confusion.png``: which characters the shipped ``lite_resnet.alnum52`` confuses on
  the valid split (unseen font families), from ``EvalResult.plot_confusion()``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import alnumzoo
from alnumzoo.data import Alnum52Rendered
from alnumzoo.training import History, load_checkpoint


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=Path("runs"))
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    parser.add_argument("--alnum52", type=Path, default=Path("data/alnum52_90"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for ck in sorted(args.runs.glob("*/checkpoint.pt")):
        history = History.from_dict(load_checkpoint(ck)["history"])
        if history.records:
            title = f"{ck.parent.name}: {history.recipe} recipe, budget on {history.device}"
            fig = history.plot(args.out / f"curves_{ck.parent.name}.png", title=title)
            print(f"wrote curves_{ck.parent.name}.png ({len(history.records)} epochs)")
            fig.clf()
    if "lite_resnet.alnum52" in alnumzoo.list_models(pretrained=True):
        model = alnumzoo.from_pretrained("lite_resnet.alnum52")
        result = alnumzoo.evaluate(model, Alnum52Rendered(args.alnum52, "valid"))
        result.plot_confusion(
            args.out / "alnum52_confusion.png",
            title=f"lite_resnet.alnum52 on unseen fonts: top-1 {100 * result.accuracy:.2f}%",
        )
        print("wrote alnum52_confusion.png; most confused:", result.most_confused(10))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
