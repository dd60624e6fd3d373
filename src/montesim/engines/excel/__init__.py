"""Excel Monte Carlo: a workbook compiled to a vectorized NumPy program."""

from montesim.engines.excel.engine import ExcelEngine

__all__ = ["ExcelEngine"]
