"""The lesson models, by name. Importing this module is cheap: torch is imported when a model is built.

Every model takes normalised images (N, 1, 28, 28) and returns log-probabilities (N, classes), as the
course's networks do (LogSoftmax at the end, NLLLoss as the criterion).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

MODELS: dict[str, str] = {
    "mlp": "the Fashion-MNIST classifier: 784-256-128-64-10, ReLU, LogSoftmax",
    "mlp-dropout": "the same classifier with Dropout(0.2) after each hidden layer",
    "mnist-mlp": "the course's MNIST network: 784-128-64-10, ReLU, LogSoftmax",
    "cnn": "a small CNN: two 3x3 convolutions (16 and 32 channels) with max-pooling, then 128-10",
    "transfer": (
        "a frozen pretrained base with a new head: torchvision's weights when they are on this "
        "machine, else a CNN pretrained here on Fashion-MNIST"
    ),
}
# Weights torchvision can use offline once the file is in $TORCH_HOME/hub/checkpoints, best first.
TORCHVISION_BASES = (
    ("densenet121", "DenseNet121_Weights", 1024),
    ("resnet18", "ResNet18_Weights", 512),
)
CNN_FEATURES = 32 * 7 * 7
# ImageNet's normalisation, which torchvision's pretrained weights expect.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def mlp(sizes: tuple[int, ...], classes: int, dropout: float = 0.0) -> nn.Module:
    """Flatten, then Linear + ReLU (+ Dropout) per hidden size, then Linear and LogSoftmax."""
    from torch import nn

    layers: list[nn.Module] = [nn.Flatten()]
    for n_in, n_out in itertools.pairwise(sizes):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
    layers += [nn.Linear(sizes[-1], classes), nn.LogSoftmax(dim=1)]
    return nn.Sequential(*layers)


def cnn_features() -> nn.Module:
    """The convolutional part of the small CNN: (N, 1, 28, 28) -> (N, 1568)."""
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
    )


def head(n_features: int, classes: int) -> nn.Module:
    """A classifier head like the course's: Linear, ReLU, Dropout(0.2), Linear, LogSoftmax."""
    from torch import nn

    return nn.Sequential(
        nn.Linear(n_features, 128),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(128, classes),
        nn.LogSoftmax(dim=1),
    )


def cnn(classes: int) -> nn.Module:
    """The small CNN: its ``features`` can be frozen and reused by ``transfer``."""
    from torch import nn

    return nn.Sequential(
        dict_modules(features=cnn_features(), classifier=head(CNN_FEATURES, classes))
    )


def dict_modules(**modules: nn.Module) -> Any:
    """An OrderedDict of named children, so ``model.features`` and ``model.classifier`` exist."""
    from collections import OrderedDict

    return OrderedDict(modules)


def build_model(name: str, classes: int = 10) -> nn.Module:
    """A freshly initialised model (``transfer`` is built by ``transfer_model`` instead)."""
    if name == "mlp":
        return mlp((784, 256, 128, 64), classes)
    if name == "mlp-dropout":
        return mlp((784, 256, 128, 64), classes, dropout=0.2)
    if name == "mnist-mlp":
        return mlp((784, 128, 64), classes)
    if name == "cnn":
        return cnn(classes)
    raise ValueError(f"Unknown model {name!r}; choose one of: {', '.join(MODELS)}.")


def torchvision_weights_available() -> tuple[str, Any, int] | None:
    """(architecture, weights enum member, feature width) for weights already on disk, else None."""
    import os

    import torch.hub
    from torchvision import models

    checkpoints = os.path.join(torch.hub.get_dir(), "checkpoints")
    for arch, enum_name, width in TORCHVISION_BASES:
        weights = getattr(models, enum_name).DEFAULT
        if os.path.isfile(os.path.join(checkpoints, os.path.basename(weights.url))):
            return arch, weights, width
    return None


def torchvision_base(arch: str, weights: Any | None) -> nn.Module:
    """A torchvision network's feature extractor, adapted to 28x28 one-channel images.

    The images are upsampled to 64x64 and turned into three ImageNet-normalised channels by a
    fixed 1x1 convolution (our pixels are (p - 0.5) / 0.5; ImageNet's are (p - mean) / std).
    """
    import torch
    from torch import nn
    from torchvision import models

    to_rgb = nn.Conv2d(1, 3, 1)
    with torch.no_grad():
        to_rgb.weight.copy_(torch.tensor([0.5 / s for s in IMAGENET_STD]).view(3, 1, 1, 1))
        bias = [(0.5 - m) / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD, strict=True)]
        to_rgb.get_parameter("bias").copy_(torch.tensor(bias))
    network = getattr(models, arch)(weights=weights)
    if arch == "densenet121":
        body = nn.Sequential(network.features, nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    else:
        body = nn.Sequential(*list(network.children())[:-1], nn.Flatten())
    return nn.Sequential(
        nn.Upsample(size=(64, 64), mode="bilinear", align_corners=False), to_rgb, body
    )


def transfer_model(base: nn.Module, n_features: int, classes: int) -> nn.Module:
    """The base, frozen, with a new trainable head: only the head's parameters learn."""
    from torch import nn

    for parameter in base.parameters():
        parameter.requires_grad = False
    return nn.Sequential(dict_modules(features=base, classifier=head(n_features, classes)))


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, total
