"""The shared vocabulary every step speaks: tables and tiers, the policy, the calendar, roster types."""
