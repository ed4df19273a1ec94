"""sdmetrics 0.32 reports computed natively: same definitions, details and errors, on encoded arrays."""
