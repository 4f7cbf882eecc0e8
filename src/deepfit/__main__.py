"""``python -m deepfit``."""

from deepfit.cli.main import run

run()
