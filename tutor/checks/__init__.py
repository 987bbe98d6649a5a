"""Checks: declarative checks of exercise answers, run inside the kernel child."""
