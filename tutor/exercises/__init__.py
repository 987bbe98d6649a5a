"""Exercises as the learner works them: the rules of one exercise step, free of any UI.

``ExerciseSession`` (session.py) holds a step's state and rules: run and check, the REPL line,
reset, hints, the solution, skip, drafts, attempts and the quiz feed. ``KernelHost``
(kernels.py) is the one kernel an app shares between its exercise steps. ``text.py`` turns run
results into the lines a learner reads. Nothing here imports Textual or torch.

Import from the modules themselves: this package imports nothing, so the app can hold a
``KernelHost`` without loading the kernel client before its first screen.
"""
