"""The report of a suite (`python -m bench report`): pure summaries, plots, HTML and Markdown.

One module per job: data (loading a suite and its runs), scaling, lag, timeline, compare
and summary (pure), plots (matplotlib), build (the report's model), render_html and
render_markdown (text).
"""
