"""A learner's scalar reverse mode (micrograd's size), correct or with the overwrite bug, for the
tests of adnb.testing.compare and predict mode."""
import math


class Value:
    def __init__(self, data, parents=(), partials=(), op=""):
        self.data, self.parents, self.partials, self.op = float(data), parents, partials, op
        self.grad = 0.0

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __sub__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data - other.data, (self, other), (1.0, -1.0), "-")

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")

    __radd__ = __add__
    __rmul__ = __mul__

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), (e,), "exp")

    def sin(self):
        return Value(math.sin(self.data), (self,), (math.cos(self.data),), "sin")

    def backward(self, accumulate=True):
        order, seen = [], set()

        def visit(v):
            if id(v) not in seen:
                seen.add(id(v))
                for p in v.parents:
                    visit(p)
                order.append(v)
        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            for p, d in zip(v.parents, v.partials):
                if accumulate:
                    p.grad += v.grad * d
                else:               # the bug: the last child's contribution overwrites
                    p.grad = v.grad * d


def book_value(x1, x2):
    v3 = x1 * x2
    v4 = x2.sin()
    v5 = v3.exp()
    v6 = v3 - v4
    return v5 + v6


def student(accumulate=True, return_graph=True):
    def grad(x1, x2):
        a, b = Value(x1), Value(x2)
        out = book_value(a, b)
        out.backward(accumulate)
        return out if return_graph else (a.grad, b.grad)
    return grad
