"""Django-free helpers every layer and the evaluation engine share; they import only the standard library."""
