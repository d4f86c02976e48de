"""Each person's to-do list, gathered from review and handling."""
from .services import KIND_LABELS, Task, my_tasks  # noqa: F401
