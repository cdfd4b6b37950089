"""POST /code-executions: the API over the sandbox, and the comparison of results."""
