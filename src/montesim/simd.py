"""The NumPy CPU features montesim turns off so every machine computes alike.

NumPy picks its exp/log/power kernels by CPU, and its AVX-512 ones round differently in
the last bit from the AVX2 ones. Imports nothing: ``montesim/__init__`` reads it before
NumPy is first imported.
"""

PORTABLE_SIMD = "X86_V4 AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL AVX512_SPR"
