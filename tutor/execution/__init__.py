"""What runs learner code inside the kernel child: the cell runner, the call recorder, and the
plain-language explanations of errors.

This is the layer below ``tutor.checks`` (which reads what the recorder saw) and ``tutor.kernel``
(whose child process drives it). It imports no other tutor package, and neither torch nor Textual
at import time.
"""
