"""A province's quarter: every district planned, checked (and published) as one Dask task each.

    districts.py  which districts ROOT holds (folders or a districts.csv) and their fingerprints
    seeds.py      the documented rule that gives each district its seed from the province seed
    task.py       what a worker does for one district: validate -> tier -> plan -> check (-> publish)
    runner.py     the province run: resume by fingerprints, the province manifest
    summary.py    the province summary (xlsx, HTML, PNG chart)

The Dask engine (a local cluster or a given scheduler, tasks followed) is
`riskplan.analysis.cluster`, shared with the what-if sweeps.

A district's plan folder is written by the same `riskplan.pipeline.run_plan` that `riskplan
plan` calls, with the district's seed, so it is byte-identical to planning the district alone
(docs/province.md)."""
