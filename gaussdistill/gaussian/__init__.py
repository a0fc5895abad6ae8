"""Gaussian laws that know nothing about distillation: the matrix normal law and its KL."""
from .kl import KLValue, kl_matrix_normal
from .matrix_normal import MatrixNormal

__all__ = ["MatrixNormal", "kl_matrix_normal", "KLValue"]
