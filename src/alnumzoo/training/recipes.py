"""Training recipes: the fast default and the reports' own recipes, per architecture."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, fields, replace
from typing import Any, Literal

__all__ = ["RECIPES", "Recipe", "get_recipe", "list_recipes", "recipe_values"]

OptimizerName = Literal["sgd", "adam", "adamw"]
ScheduleName = Literal["linear", "cosine", "constant", "step", "phases"]


@dataclass(frozen=True)
class Recipe:
    """Everything that decides how a model is trained, apart from the model and the data.

    Attributes:
        name: Recipe name (``"default"``, ``"report"``, ...).
        optimizer: ``"sgd"``, ``"adam"`` or ``"adamw"``.
        lr: Base learning rate.
        batch_size: Images per optimizer step (per process under DDP).
        epochs: Epochs when neither ``budget`` nor ``epochs`` is given to
            [`fit`][alnumzoo.training._fit.fit].
        momentum: SGD momentum.
        nesterov: Nesterov momentum for SGD.
        weight_decay: Decoupled for AdamW, L2 for SGD/Adam; never applied to norms or biases
            by the default recipes (``decay_norm_and_bias``).
        decay_norm_and_bias: Apply weight decay to BatchNorm parameters and biases too.
        label_smoothing: Cross-entropy label smoothing.
        schedule: Learning-rate schedule over progress (see
            [`alnumzoo.training.lr_factor_fn`][alnumzoo.training.schedule.lr_factor_fn]).
        warmup: Warm-up fraction of the run.
        step_epochs: ``StepLR`` step size in epochs (``schedule="step"``).
        step_gamma: ``StepLR`` decay factor.
        phases: ``(start_lr, end_lr)`` per phase (``schedule="phases"``).
        ema_decay: Exponential moving average of the weights (BatchNorm buffers included),
            or ``None``. The decay is warmed up as ``min(decay, (1 + t) / (10 + t))``.
        swa_start: Start stochastic weight averaging (equal weights, BatchNorm statistics
            recomputed at the end) at this fraction of the run, or ``None``.
        augment: ``"auto"`` picks the data set's preset from
            the data set's profile (`alnumzoo.data.profile_for`), another string names
            a preset, ``"dataset"`` leaves augmentation to the data set's own transform (for
            data sets too large to keep in memory), ``None`` turns it off.
        augment_from_epoch: The first epoch (from 0) that is augmented. The default recipes
            leave the first pass over the data plain: until images repeat, augmentation only
            slows learning (measured: CRNN on Fashion-MNIST for 60 s on one CPU thread, about
            a fifth of an epoch, scored 74.1% with flips and shifts from the start and 80.2%
            without; ``benchmarks/peer_race.py``). In-memory data only: a data set's own
            transform (``augment="dataset"``) is the data set's to schedule.
        augment_min_epochs: Leave augmentation out of a run planned to see its training data
            fewer times than this (the epochs asked for, or under a budget the budget at the
            CPU probe's measured rate; a run whose length is not known in advance keeps it).
            Augmentation regularises, which pays only once images repeat many times.
        tta: Test-time augmentation for the final evaluation, ``"auto"`` (the data set's
            default, or none for a run that never trained on an augmented image; ``fit``
            records which, and ``evaluate(tta="auto")`` reads it back), ``"flip"`` (an image
            and its mirror), ``"shift"`` (the image and four
            one-pixel shifts, for characters, which must never be mirrored), ``"crops"`` (ten
            random resized crops, report 003) or ``None`` (the plain image).
        grad_clip: Clip the gradient norm to this value, or ``None``.
        keep_best: Return the weights that scored best on validation (the reports' practice)
            rather than the last ones.
        description: Where the recipe comes from, where its values do not say it (the
            reports' recipes cite their report);
            [`summary`][alnumzoo.training.recipes.Recipe.summary] states the values.
    """

    name: str
    optimizer: OptimizerName
    lr: float
    batch_size: int
    epochs: int
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 0.0
    decay_norm_and_bias: bool = False
    label_smoothing: float = 0.0
    schedule: ScheduleName = "constant"
    warmup: float = 0.0
    step_epochs: float = 0.0
    step_gamma: float = 1.0
    phases: tuple[tuple[float, float], ...] = ()
    ema_decay: float | None = None
    swa_start: float | None = None
    augment: str | None = "auto"
    augment_from_epoch: int = 0
    augment_min_epochs: float = 0.0
    tta: str | None = "auto"
    grad_clip: float | None = None
    keep_best: bool = True
    description: str = ""

    def with_overrides(self, **changes: Any) -> Recipe:
        """A copy with some fields changed (unknown names raise ``TypeError``)."""
        return replace(self, **changes)

    @classmethod
    def from_values(cls, values: Mapping[str, Any], name: str = "recorded") -> Recipe:
        """The recipe whose values are ``values``: what
        [`recipe_values`][alnumzoo.training.recipes.recipe_values] wrote, as
        ``History.recipe_detail`` and a weights record's ``recipe`` hold them. So
        ``fit(model, ..., recipe=Recipe.from_values(weights.record.recipe))`` trains with
        what those weights trained with. Fields a record predates keep their defaults.

        Raises:
            ValueError: a key that is no field of a recipe, or a required one missing.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"not fields of a Recipe: {unknown}; expected some of {sorted(known)}")
        required = {f.name for f in fields(cls) if f.default is MISSING} - {"name"}
        missing = sorted(required - set(values))
        if missing:
            raise ValueError(f"recipe values lack the required {missing}")
        phases = tuple((float(a), float(b)) for a, b in values.get("phases", ()))
        return cls(**{"name": name, **values, "phases": phases})

    def summary(self) -> str:
        """The recipe in one line, from its values: ``"AdamW lr 0.003, batch 128, ..."``."""
        optimizer = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW"}[self.optimizer]
        parts = [f"{optimizer} lr {self.lr:g}", f"batch {self.batch_size}"]
        if self.optimizer == "sgd" and self.momentum:
            parts.append(f"{'Nesterov ' if self.nesterov else ''}momentum {self.momentum:g}")
        if self.weight_decay:
            parts.append(f"weight decay {self.weight_decay:g}")
        if self.label_smoothing:
            parts.append(f"label smoothing {self.label_smoothing:g}")
        if self.grad_clip is not None:
            parts.append(f"gradient clip {self.grad_clip:g}")
        if self.warmup:
            parts.append(f"warm-up {self.warmup:.0%}")
        parts.append(
            {
                "linear": "linear decay to zero",
                "cosine": "cosine decay to zero",
                "constant": "constant rate",
                "step": f"x{self.step_gamma:g} every {self.step_epochs:g} epochs",
                "phases": f"{len(self.phases)} cyclic phases",
            }[self.schedule]
        )
        if self.ema_decay is not None:
            parts.append(f"EMA {self.ema_decay:g}")
        if self.swa_start is not None:
            parts.append(f"SWA from {self.swa_start:.0%} of the run")
        if self.augment is None:
            parts.append("no augmentation")
        else:
            when = f" from epoch {self.augment_from_epoch}" if self.augment_from_epoch else ""
            if self.augment_min_epochs:
                when += f" in runs of {self.augment_min_epochs:g} epochs or more"
            parts.append(f"augmentation {self.augment}{when}")
        parts.append(f"TTA {self.tta}" if self.tta is not None else "no TTA")
        parts.append("best epoch kept" if self.keep_best else "last weights kept")
        return ", ".join(parts)


def recipe_values(recipe: Recipe) -> dict[str, Any]:
    """Every value of ``recipe`` as plain JSON data, its description left out."""
    values = asdict(recipe)
    del values["description"]
    values["phases"] = [list(p) for p in recipe.phases]
    return values


_FAST_SGD = Recipe(
    name="default",
    optimizer="sgd",
    lr=0.2,
    batch_size=256,
    epochs=20,
    nesterov=True,
    weight_decay=5e-4,
    label_smoothing=0.1,
    schedule="linear",
    warmup=0.05,
    ema_decay=0.998,
    augment_from_epoch=1,
)

#: The fast default with AdamW (decoupled weight decay 0.05) in place of SGD-Nesterov: what
#: the residual and recurrent nets train fastest with (measurements at each recipe below).
_FAST_ADAMW = _FAST_SGD.with_overrides(optimizer="adamw", nesterov=False, weight_decay=0.05)


def _report_adam(
    lr: float, batch_size: int, epochs: int, description: str, **changes: Any
) -> Recipe:
    """What four of the five course reports trained with: Adam, a constant rate unless
    ``changes`` say otherwise, no augmentation, no TTA."""
    base = Recipe(
        name="report", optimizer="adam", lr=lr, batch_size=batch_size, epochs=epochs,
        augment=None, tta=None, description=description,
    )  # fmt: skip
    return base.with_overrides(**changes)


#: The course reports' own recipes, one line of figures each.
# fmt: off
_REPORT_RECIPES: dict[str, Recipe] = {
    "bottleneck_cnn": _report_adam(
        1e-4, 50, 12, "report 000: Adam 1e-4, batch 50, 12 epochs, no augmentation"
    ),
    "lite_resnet": _report_adam(
        2e-3, 512, 40, "report 001: Adam 2e-3, batch 512, slight rotations, 40 epochs",
        augment="slight_rotation",
    ),
    "crnn": _report_adam(
        5e-4, 50, 15, "report 004: Adam 5e-4, batch 50, 15 epochs, StepLR(3, 0.5)",
        schedule="step", step_epochs=3, step_gamma=0.5,
    ),
    "cifar_cnn": _report_adam(1e-3, 50, 30, "report 002: Adam 1e-3, batch 50, 30 epochs"),
    "efficientnet_b2": Recipe(
        name="report", optimizer="sgd", lr=1e-1, batch_size=32, epochs=200, momentum=0.9,
        label_smoothing=0.1, swa_start=0.75, augment="dataset", tta="crops", schedule="phases",
        phases=((1e-1, 1e-2), (1e-2, 1e-4), (1e-4, 1e-6), (1e-6, 1e-10)),
        description="report 003: SGD momentum 0.9, label smoothing 0.1, 4 cyclic phases "
        "(1e-1→1e-2, 1e-2→1e-4, 1e-4→1e-6, 1e-6→1e-10), SWA in the last phase, 10-crop TTA",
    ),
}
# fmt: on

#: Recipes by name, then by architecture (``"*"`` applies to any architecture).
RECIPES: dict[str, dict[str, Recipe]] = {
    "default": {
        "*": _FAST_SGD,
        # Measured on CPU (benchmarks/recipe_race.py): with SGD at 0.1 and batch 256 this
        # net's dropout-wrapped 3200-wide head stayed at chance for a whole epoch; Adam at
        # 3e-4 with small batches learns from the first steps.
        # Measured again with benchmarks/time_to_accuracy.py's data (1 CPU thread, 150 s):
        # Adam 1e-3 reached 80.1% on unseen fonts where 3e-4 reached 77.5%.
        "bottleneck_cnn": _FAST_SGD.with_overrides(
            optimizer="adam",
            lr=1e-3,
            batch_size=50,
            nesterov=False,
            weight_decay=0.0,
            label_smoothing=0.0,
        ),
        # Measured with benchmarks/time_to_accuracy.py (1 CPU thread, 100 s, alnum52 90x90,
        # unseen-font validation): AdamW 3e-3 reached 91.9% where SGD-Nesterov 0.2 reached
        # 85.2% and the report's Adam 2e-3 (batch 512, decayed) 89.2%.
        "lite_resnet": _FAST_ADAMW.with_overrides(lr=3e-3),
        # CharResNet trains on the wide alnum52 corpus for one or two hours on one CPU thread
        # (about 10 passes over 156,000 images): LiteResNet's AdamW recipe with a smaller
        # batch for more steps and a slower EMA over them.
        "char_resnet": _FAST_ADAMW.with_overrides(
            lr=2e-3, batch_size=128, warmup=0.02, ema_decay=0.999
        ),
        # Five stacked tanh RNN layers diverge under SGD at these rates; AdamW with gradient
        # clipping trains them reliably. Flips and shifts cost CRNN accuracy in runs of a few
        # epochs (Fashion-MNIST, one CPU thread: 87.1% with them, 89.2% without at 300 s, about
        # 3 epochs; 88.1% and 90.0% at 600 s, 6 epochs; benchmarks/peer_race.py --fit-set
        # augment=null); the shipped weights, 136 epochs, trained with them.
        "crnn": _FAST_ADAMW.with_overrides(
            lr=3e-3,
            batch_size=128,
            grad_clip=1.0,
            augment_min_epochs=10.0,
        ),
        # Flips and crops cost CifarCNN accuracy in a run of a few epochs as well (CIFAR-10, one
        # CPU thread, 181 s, about 3.6 epochs: 71.33% without them, 68.00% with them and flip
        # TTA; benchmarks/time_to_accuracy.py --default-set augment_min_epochs=10); the
        # shipped weights, 438 epochs, trained with them. Without them, a peak rate of 0.1
        # reached 72.53% in the same race, where 0.2 reached 71.33%, 0.05 71.66% and 0.4 fell
        # behind at once (42.5% after 100 s). The shipped weights trained at 0.2; longer runs
        # at 0.1 were not measured.
        "cifar_cnn": _FAST_SGD.with_overrides(lr=0.1, augment_min_epochs=10.0),
        "efficientnet_b2": _FAST_SGD.with_overrides(lr=0.05, batch_size=64, augment=None),
    },
    "report": _REPORT_RECIPES,
}


def list_recipes(arch: str | None = None) -> list[str]:
    """Recipe names, or those that apply to ``arch``."""
    return sorted(
        name for name, table in RECIPES.items() if arch is None or arch in table or "*" in table
    )


def get_recipe(recipe: str | Recipe, arch: str) -> Recipe:
    """Resolve a recipe name for an architecture (``Recipe`` objects pass through).

    Raises:
        KeyError: no such recipe, or it has no variant for ``arch``; the message lists what
            exists.
    """
    if isinstance(recipe, Recipe):
        return recipe
    table = RECIPES.get(recipe)
    if table is None:
        raise KeyError(f"unknown recipe {recipe!r}; known: {', '.join(sorted(RECIPES))}")
    found = table.get(arch) or table.get("*")
    if found is None:
        raise KeyError(
            f"recipe {recipe!r} has no variant for architecture {arch!r}; it covers "
            f"{', '.join(sorted(table))}"
        )
    return found
