"""The evaluation engine: pure pandas/NumPy/sdmetrics, no Django imports.

It takes the real reference and the synthetic table as DataFrames plus metadata and returns plain data.
"""
