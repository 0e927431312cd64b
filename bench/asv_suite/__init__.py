"""The asv suite (asv.conf.json's benchmark_dir): the firefly workload tracked across commits."""
