"""Flywheel (飞轮): a self-hosted sales flywheel platform for B2B companies."""

__version__ = "0.1.0"
