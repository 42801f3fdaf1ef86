"""The independent checker: re-derives every roster rule from the inputs, sharing no planning code."""
