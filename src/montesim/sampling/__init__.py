"""Distributions, Latin hypercube sampling, rank correlation and seeding."""

from montesim.sampling.correlation import iman_conover, nearest_correlation, validate_corr
from montesim.sampling.distributions import (
    FAMILIES,
    Distribution,
    canonical_family,
    make_distribution,
    parse_distribution,
)
from montesim.sampling.draw import CORR_STREAM, block_uniforms, sample_inputs
from montesim.sampling.lhs import METHODS, latin_hypercube
from montesim.sampling.seeding import BLOCK, blocks, rng_for, round_chunk_size, stable_id

__all__ = [
    "BLOCK",
    "CORR_STREAM",
    "FAMILIES",
    "METHODS",
    "Distribution",
    "block_uniforms",
    "blocks",
    "canonical_family",
    "iman_conover",
    "latin_hypercube",
    "make_distribution",
    "nearest_correlation",
    "parse_distribution",
    "rng_for",
    "round_chunk_size",
    "sample_inputs",
    "stable_id",
    "validate_corr",
]
