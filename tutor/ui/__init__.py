"""The Textual app: screens, widgets and dialogs on top of the domain packages.

Nothing here imports torch: torch work runs in child processes (kernel, runs, device probe).
"""
