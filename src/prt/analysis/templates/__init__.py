"""Package data of the analysis report: the HTML page skeleton and its stylesheet (inlined)."""
