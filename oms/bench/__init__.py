"""Business-scale data and the benchmark that measures the OMS against it."""
