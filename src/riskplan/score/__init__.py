"""Risk scoring: features, the learned model and the rule baseline, tiers with reasons, evaluation."""
