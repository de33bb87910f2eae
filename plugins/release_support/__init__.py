"""Support at the gate: what a person is given on the day of release, the stock it comes from, and the release-day checklist."""
