"""The HTTP API: thin routes over the services, one error format, one place for middleware."""
