"""montesim.engines"""
