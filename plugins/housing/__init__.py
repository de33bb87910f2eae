"""Housing repairs for the family home before release."""
