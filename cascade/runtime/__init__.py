"""The runtime layer: solve, schedule and execute graphs."""
