"""Tests for Meter Hub."""
