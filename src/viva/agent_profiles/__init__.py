"""Agent profiles: the interviewer's persona, rubric, behaviour and scoring."""
