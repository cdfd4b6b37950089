"""Scorecards: rubric maths, the evaluator, and the scoring job."""
