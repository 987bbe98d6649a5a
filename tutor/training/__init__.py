"""Training: the lesson models, their datasets, the trainer loop and the runs it lives in.

Nothing here imports torch at module import time; the trainer runs in its own process
(``python -m tutor.training.run_process``), so the UI never loads torch.
"""
