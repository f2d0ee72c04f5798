"""SymPy atoms for the functions SymPy lacks: the logistic sigmoid and softplus.

They stay atoms so that derivatives read the way backprop uses them,
σ'(x) = σ(x)(1 − σ(x)) and softplus'(x) = σ(x), instead of expanding into
ratios of exponentials. Each atom knows its derivative (``fdiff``), how to
rewrite itself in terms of ``exp``, how to evaluate numerically, and how to
print itself in LaTeX, one-line Unicode, NumPy, mpmath and C.
"""

from __future__ import annotations

import sympy as sp


class sigmoid(sp.Function):
    r"""Logistic sigmoid :math:`\sigma(x) = 1/(1 + e^{-x})`."""

    nargs = 1

    @classmethod
    def eval(cls, arg):
        # Only exact special values; the definition lives in _eval_rewrite_as_exp.
        if arg.is_zero:
            return sp.S.Half
        if arg is sp.S.Infinity:
            return sp.S.One
        if arg is sp.S.NegativeInfinity:
            return sp.S.Zero

    def fdiff(self, argindex=1):
        s = self.func(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return 1 / (1 + sp.exp(-arg))

    def _eval_evalf(self, prec):
        return self.rewrite(sp.exp)._eval_evalf(prec)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        if self.args[0].is_extended_real:
            return True

    def _latex(self, printer, exp=None):
        inner = r"\sigma\left(%s\right)" % printer._print(self.args[0])
        return inner if exp is None else r"\sigma^{%s}\left(%s\right)" % (exp, printer._print(self.args[0]))

    def _pretty(self, printer):
        return printer._print_Function(self, func_name="σ")

    def _numpycode(self, printer):
        arg = printer._print(self.args[0])
        return "(1/(1 + %s(-(%s))))" % (printer._module_format("numpy.exp"), arg)

    def _mpmathcode(self, printer):
        arg = printer._print(self.args[0])
        return "(1/(1 + %s(-(%s))))" % (printer._module_format("mpmath.exp"), arg)

    def _ccode(self, printer):
        return "(1.0/(1.0 + exp(-(%s))))" % printer._print(self.args[0])


class softplus(sp.Function):
    r"""Softplus :math:`\operatorname{softplus}(x) = \log(1 + e^{x})`."""

    nargs = 1

    @classmethod
    def eval(cls, arg):
        if arg.is_zero:
            return sp.log(2)
        if arg is sp.S.Infinity:
            return sp.S.Infinity
        if arg is sp.S.NegativeInfinity:
            return sp.S.Zero

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return sp.log(1 + sp.exp(arg))

    def _eval_rewrite_as_log(self, arg, **kwargs):
        return sp.log(1 + sp.exp(arg))

    def _eval_evalf(self, prec):
        return self.rewrite(sp.exp)._eval_evalf(prec)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        if self.args[0].is_extended_real:
            return True

    def _latex(self, printer, exp=None):
        name = r"\operatorname{softplus}" if exp is None else r"\operatorname{softplus}^{%s}" % exp
        return r"%s\left(%s\right)" % (name, printer._print(self.args[0]))

    def _numpycode(self, printer):
        arg = printer._print(self.args[0])
        return "%s(0, %s)" % (printer._module_format("numpy.logaddexp"), arg)

    def _mpmathcode(self, printer):
        arg = printer._print(self.args[0])
        return "%s(1 + %s(%s))" % (
            printer._module_format("mpmath.log"),
            printer._module_format("mpmath.exp"),
            arg,
        )

    def _ccode(self, printer):
        a = printer._print(self.args[0])
        return "(fmax(%s, 0.0) + log1p(exp(-fabs(%s))))" % (a, a)


#: Names the parser, the printers and lambdify resolve to these atoms.
ATOMS = {"sigmoid": sigmoid, "softplus": softplus}


def expand_atoms(expr: sp.Basic) -> sp.Basic:
    """Rewrite every symact atom in terms of ``exp`` and ``log``."""
    return expr.replace(
        lambda e: isinstance(e, (sigmoid, softplus)),
        lambda e: e.rewrite(sp.exp),
    )
