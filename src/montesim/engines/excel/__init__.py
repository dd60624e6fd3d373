"""montesim.engines.excel"""
