"""Tables the registry reads: formats and sniffing (`formats`, no pandas), loading (`reading`) and schemas
(`schema`). Used by registration, evaluation runs, the API, lineage and the benchmarks alike.

Import the submodule you need: only `reading` and `schema` load pandas.
"""
