"""What finished runs mean: statistics, figures in one style, and the report's sections.

Reads trial records through ``harness.running``; writes Markdown, HTML, LaTeX and figures.
"""
