"""Analysis on top of the pipeline: what-if staffing scenarios and the targeting value of a draw."""
