"""placeholder: commands arrive in the issue-2 work."""
