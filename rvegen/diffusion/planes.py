"""One 2D denoiser per plane family, for anisotropic microstructures.

A slice of a (z, y, x) volume "normal to axis a" is what ``numpy.take(volume, i, axis=a)``
gives: axis 0 -> an xy plane (y, x), axis 1 -> an xz plane (z, x), axis 2 -> a yz plane
(z, y). The multi-plane sampler denoises the slices normal to one axis at a time, in that
same in-plane order, so the network of plane family a must be trained on slices normal to
axis a of the data, in that order. Quarter turns would swap the two in-plane axes, which
are different directions in an anisotropic material, so only the flips keep them apart
(``FLIPS``: the dihedral symmetries that map each in-plane axis onto itself).
"""

from __future__ import annotations

import torch
from torch import nn

#: dihedral indices (see ``encoding.dihedral``) that keep both in-plane axes in place:
#: identity, half turn (= both flips), flip of x, flip of y
FLIPS = (0, 2, 4, 6)

#: the plane family of the slices normal to each axis, in the (z, y, x) order
PLANE_NAMES = ("xy", "xz", "yz")


class PlaneModels(nn.Module):
    """Three independent 2D denoisers, one per plane family (index = the normal axis).

    Trained as one module (each sample of a batch goes to the network of its plane, so
    each network only ever sees its own family's slices) and stored as one checkpoint;
    samplers take the network of the plane they denoise with :meth:`for_plane`.
    """

    def __init__(self, nets: list[nn.Module]) -> None:
        super().__init__()
        if len(nets) != 3:
            raise ValueError("PlaneModels needs one network per plane family (3)")
        self.nets = nn.ModuleList(nets)
        self.config = nets[0].config  # the backbone config of each network

    def for_plane(self, axis: int) -> nn.Module:
        """The network of the slices normal to ``axis``."""
        return self.nets[axis]

    def forward(self, x: torch.Tensor, t: torch.Tensor, planes: torch.Tensor) -> torch.Tensor:
        """Each sample through its own plane's network (``planes``: (B,) normal axes)."""
        outs, order = [], []
        for axis, net in enumerate(self.nets):
            index = torch.nonzero(planes == axis).flatten()
            if len(index):
                outs.append(net(x[index], t[index]))
                order.append(index)
        out = torch.cat(outs)
        return out[torch.argsort(torch.cat(order))]

    def set_periodic(self, periodic: bool) -> None:
        """Switch circular padding in every plane's network."""
        for net in self.nets:
            if hasattr(net, "set_periodic"):
                net.set_periodic(periodic)

    def min_divisor(self) -> int:
        """Patch sides must be multiples of this."""
        net = self.nets[0]
        return net.min_divisor() if hasattr(net, "min_divisor") else 1


def plane_networks(net: nn.Module) -> list[nn.Module] | None:
    """The noise predictor of each plane family, or None for a single (isotropic) network.

    ``net`` is a sampling network: :class:`PlaneModels`, or a prediction-target view of
    one (``EpsilonView``, which has ``for_plane``).
    """
    if isinstance(net, PlaneModels):
        return list(net.nets)
    if isinstance(getattr(net, "net", None), PlaneModels):
        return [net.for_plane(axis) for axis in range(3)]
    return None
