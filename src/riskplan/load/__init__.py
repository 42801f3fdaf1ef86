"""Reading the bureau's files: the district folder and a tiers file, validated with every problem named."""
