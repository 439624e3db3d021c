"""One module per verb of the `epicap` command. Each defines:

- a module docstring: its first line is the one-line help, the rest the `--help` description;
- `add_arguments(parser)`: the verb's options;
- `run(args) -> int | None`: calls one library function and prints a short summary.

Modules import heavy packages (torch, open3d, mediapipe, cv2) inside `run`, so `epicap --help`
stays fast.
"""
