"""Every camera's pose (and focal length), metric scale and the floor, from the people in view."""
