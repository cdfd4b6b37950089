"""Domain-free building blocks: time, randomness, column types, repositories, pagination."""
