"""A swarm over several processes: zones of the grid in worker processes, one MQTT broker.

`partition`: which zone each shard carries (pure); `coordinator`: start the workers,
start them together, collect and merge their documents; `merge`: worker documents into
one result (pure).
"""
