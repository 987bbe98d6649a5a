"""Lint: prove every lesson by running it in a kernel (reference solutions pass, wrong answers fail,
page code runs).

It sits above ``tutor.kernel`` and ``tutor.checks``, since it starts kernels that run the checks.
"""
