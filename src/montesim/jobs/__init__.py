"""montesim.jobs"""
