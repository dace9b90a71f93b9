"""Quality evaluation: held-out next-line / middle-line match and HumanEval infilling."""
