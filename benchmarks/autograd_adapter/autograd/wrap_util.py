"""autograd's argnum convention: turn an operator on f(x) into one on f(*args)."""


def subvals(x, ivs):
    x_ = list(x)
    for i, v in ivs:
        x_[i] = v
    return tuple(x_)


def unary_to_nary(unary_operator):
    def nary_operator(fun, argnum=0, *op_args, **op_kwargs):
        def nary_f(*args, **kwargs):
            def unary_f(x):
                subargs = (subvals(args, [(argnum, x)]) if isinstance(argnum, int)
                           else subvals(args, zip(argnum, x)))
                return fun(*subargs, **kwargs)
            unary_f.__name__ = getattr(fun, "__name__", "f")
            x = args[argnum] if isinstance(argnum, int) else tuple(args[i] for i in argnum)
            return unary_operator(unary_f, x, *op_args, **op_kwargs)
        nary_f.__name__ = f"{unary_operator.__name__}_of_{getattr(fun, '__name__', 'f')}"
        return nary_f
    nary_operator.__name__ = unary_operator.__name__
    return nary_operator
