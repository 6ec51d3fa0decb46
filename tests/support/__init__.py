"""Shared support of the tests: local servers, processes, fixture repositories, generators."""
