"""montesim.api"""
