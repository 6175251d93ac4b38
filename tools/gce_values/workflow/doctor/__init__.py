"""`gce-values doctor`: what only the cluster knows about a conf, asked before an install.

One module per concern: ``references`` (what a conf names that must exist, from the values alone),
``objects`` (do those exist, with the keys read), ``podshapes`` (the endpoint pod and a worker pod of
the shape the chart's provider makes), ``admission`` (would the API server admit those pods),
``rights`` (may the installing user create what the chart renders) and ``run`` (all of them, in
order). Every finding is a report.Problem, printed by the same reporters as `validate`'s.
"""
