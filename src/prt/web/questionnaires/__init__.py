"""The participant's questionnaires: due on the visit schedule, answered item by item, scored by prt.instruments."""
