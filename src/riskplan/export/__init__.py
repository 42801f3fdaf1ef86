"""What leaves the pipeline: the plan folder, the public list, the draw verification, the report, the history update."""
