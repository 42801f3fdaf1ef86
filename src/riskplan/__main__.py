"""`python -m riskplan …`: the same commands as the `riskplan` script (where the script is not on PATH)."""

from riskplan.cli import main

if __name__ == "__main__":
    main()
