"""The participant's daily pain diary: one 0-10 rating per day, editable that day, audited."""
