"""Insights: the flywheel dashboard, its monthly snapshot (the cube), trends and comparisons,
the management report and the exports. It reads the other domains' data and changes none of it.
"""
