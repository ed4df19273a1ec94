"""Write services of the reports app: card revisions and audit exports."""
