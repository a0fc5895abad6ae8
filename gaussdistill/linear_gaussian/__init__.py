"""The linear-Gaussian case study: design, kernels, divergences, decomposition, exact bounds."""
