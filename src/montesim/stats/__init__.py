"""montesim.stats"""
