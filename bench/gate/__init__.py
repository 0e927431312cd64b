"""`python -m bench gate`: base vs head measured side by side, judged with statistics."""
