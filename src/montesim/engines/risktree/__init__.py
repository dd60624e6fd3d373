"""montesim.engines.risktree"""
