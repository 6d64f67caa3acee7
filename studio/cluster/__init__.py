"""GPU work on a Ray Serve cluster (``--ray ADDRESS``): ``front`` starts the replicas and sends
them calls, ``replica`` is one replica, ``wire`` is what travels, ``board`` is where replicas
report and Cancel is pinned. Ray is imported only when a cluster is used."""
