"""Participants: the people being evaluated."""
