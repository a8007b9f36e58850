"""Distributed-training tests on two network-namespace hosts."""
