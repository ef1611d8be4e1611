"""Tests of the tablet app (mobile/): presenters without a window, the real screens headless, and a receipt end to end."""
