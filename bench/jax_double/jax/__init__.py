"""A test double of the few JAX functions bench/jax_baseline.py calls, built on
torch and functorch (CPU, float64).  It lets bench/test_baselines.py exercise
jax_baseline's structure (jit'd closures, value_and_grad, jvp, vmap(hessian)
over per-element constants, .at[].add) on a machine without JAX.  It is not
JAX: timings through it mean nothing, and real JAX is always preferred."""
import numpy as np
import torch
import functorch


class _Config:
    def update(self, key, value):
        pass


config = _Config()


class _Device:
    platform = "cpu"
    device_kind = "cpu (jax test double)"


def devices(kind=None):
    if kind == "gpu":
        raise RuntimeError("the JAX test double has no GPU")
    return [_Device()]


def device_put(a, dev=None):
    t = torch.from_numpy(np.ascontiguousarray(a))
    return t.long() if t.dtype == torch.int32 else t  # torch indexes with int64


def jit(f, static_argnums=()):
    return f


def value_and_grad(f):
    def vg(x, *rest):
        g, v = functorch.grad_and_value(lambda y: f(y, *rest))(x)
        return v, g
    return vg


def hessian(f):
    return functorch.jacrev(functorch.jacrev(f))


def vmap(f):
    return functorch.vmap(f)


def jvp(f, primals, tangents):
    return functorch.jvp(f, primals, tangents)


def block_until_ready(x):
    return x
