from . import _make_vjp as make_vjp, _make_jvp as make_jvp  # noqa: F401

primitive_vjps = {}
