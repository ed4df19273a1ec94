"""The demo: a real, light generator trained on UCI Adult, and the data it registers."""
