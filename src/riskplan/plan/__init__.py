"""Who must be visited (obligations) and who is drawn (the first random draw), as the solver's input."""
