"""The local web page and shareable reports: a FastAPI app over the public API
(``deepfit serve``) and one self-contained HTML report (``deepfit report``).
FastAPI and uvicorn are an optional extra: ``pip install 'deepfit[web]'``."""
