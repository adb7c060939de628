"""Package data: the packaged PRT curriculum (``curriculum.yaml``) and its Markdown handouts."""
