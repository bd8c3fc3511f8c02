"""Fakes of the outside world, at its wire protocol, for the test suite."""
