"""Hugging Face transformers: memory and speed only, no exporter."""
