"""Monthly prison-visit subsidies, from schedule to receipt."""
