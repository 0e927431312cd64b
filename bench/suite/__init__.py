"""The benchmark suite: repeated, interleaved runs of every configuration in fresh processes."""
