"""LeadWorkflow, its pure cadence and transition logic, and the shared models."""
