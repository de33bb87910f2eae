"""Vocational training that ends in a government-certified certificate."""
