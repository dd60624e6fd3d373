"""Distributions, Latin hypercube sampling, rank correlation and seeding."""
